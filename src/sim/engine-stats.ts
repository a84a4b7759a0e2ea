import { BUCKETS, buckets125, Histogram } from "./histogram.ts";

/**
 * The engine's counters, gauges and histograms (vLLM V1 semantics), updated by the engine as it
 * steps; metrics-exposition.ts renders them. Latencies are engine-clock seconds.
 */
export class EngineStats {
  numRunning = 0;
  numWaiting = 0;
  kvUsage = 0;
  /** vllm:lora_requests_info series: "running|waiting" label pair -> last update (unix seconds). */
  readonly loraInfo = new Map<string, number>();
  promptTokens = 0;
  generationTokens = 0;
  preemptions = 0;
  prefixQueries = 0;
  prefixHits = 0;
  readonly success = { stop: 0, length: 0, abort: 0 };
  readonly ttft = new Histogram(BUCKETS.ttft);
  readonly tpot = new Histogram(BUCKETS.tpot);
  readonly itl = new Histogram(BUCKETS.tpot);
  readonly requestTpot = new Histogram(BUCKETS.tpot);
  readonly e2e = new Histogram(BUCKETS.latency);
  readonly queue = new Histogram(BUCKETS.latency);
  readonly inference = new Histogram(BUCKETS.latency);
  readonly prefill = new Histogram(BUCKETS.latency);
  readonly decode = new Histogram(BUCKETS.latency);
  readonly iterationTokens = new Histogram(BUCKETS.iterationTokens);
  readonly promptTokensHist: Histogram;
  readonly generationTokensHist: Histogram;
  /** Max generated tokens over the request's n sequences (n = 1 here: its generated tokens). */
  readonly maxGenerationTokensHist: Histogram;
  readonly maxTokensHist: Histogram;
  readonly nHist = new Histogram([1, 2, 5, 10, 20]);

  constructor(maxModelLen: number) {
    this.promptTokensHist = new Histogram(buckets125(maxModelLen));
    this.generationTokensHist = new Histogram(buckets125(maxModelLen));
    this.maxGenerationTokensHist = new Histogram(buckets125(maxModelLen));
    this.maxTokensHist = new Histogram(buckets125(maxModelLen));
  }
}
