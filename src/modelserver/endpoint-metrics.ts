/**
 * What the gateway knows of one endpoint's load, scraped from its `/metrics` and merged with the
 * gateway's own in-flight accounting. Produced by modelserver/, read by scheduling/ and flowcontrol/.
 */
export interface EndpointMetrics {
  /** Requests waiting in the engine (vllm:num_requests_waiting, incl. preempted). */
  waiting: number;
  /** Requests in the engine's running batch. */
  running: number;
  /** KV-cache utilisation, a fraction in [0, 1]. */
  kvCacheUsage: number;
  /** LoRA adapters in the running batch (vllm:lora_requests_info running_lora_adapters). */
  activeAdapters: ReadonlySet<string>;
  /** LoRA adapters waiting for a slot. */
  waitingAdapters: ReadonlySet<string>;
  /** max_lora label; 0 when the server does not report LoRA. */
  maxActiveAdapters: number;
  /** Tokens per KV block and number of blocks (vllm:cache_config_info), when known. */
  blockSize?: number;
  numGpuBlocks?: number;
  /** Counters for the cost model, when the engine reports them. */
  counters?: EngineCounters;
  /** Wall time (ms since epoch) of the last successful scrape; 0 = never scraped. */
  updatedAt: number;
  /**
   * The gateway's InFlight request count when the last successful scrape started (set by the
   * scraper), so scheduling can add only the work sent since that scrape (scheduling/effective-load.ts).
   */
  inFlightRequestsAtScrape?: number;
  /**
   * The most in-flight requests any of the last ~20 scrapes found already answered or on the way
   * (in flight at its start, neither running nor waiting there; set by the scraper): how many of the
   * gateway's in-flight requests this endpoint holds without their being its load. Large only for
   * servers that answer faster than they are scraped.
   */
  answeredAtRecentScrapes?: number;
}

/**
 * Cumulative engine counters the expected-TTFT cost model learns from (vLLM only): differences
 * between two scrapes give seconds per computed prompt token and the time per output token.
 */
export interface EngineCounters {
  /** Σ seconds requests spent in prefill (vllm:request_prefill_time_seconds_sum). */
  prefillSeconds: number;
  /** Requests whose prefill finished (its _count). */
  prefilledRequests: number;
  /** Prompt tokens computed: vllm:prompt_tokens_total − vllm:prefix_cache_hits_total. */
  computedPromptTokens: number;
  /** vllm:prompt_tokens_total (cached or not), in the server's own tokens; absent when not reported. */
  promptTokens?: number;
  /** Σ and count of time per output token (vllm:time_per_output_token_seconds, or inter_token_latency). */
  tpotSeconds: number;
  tpotCount: number;
  /** Σ output tokens of finished requests and their count (vllm:request_generation_tokens _sum, _count; 0 when absent). */
  generationTokens: number;
  finishedRequests: number;
}

/** The gateway's own count of work it sent to an endpoint that has not finished yet. */
export interface InFlight {
  requests: number;
  /** Prompt + max output tokens (estimated) of in-flight requests. */
  tokens: number;
  /**
   * KV tokens the in-flight requests hold on average over their lives: Σ prompt + half the max
   * output (a request's KV grows from its prompt to prompt + output, then frees at once).
   */
  kvTokens: number;
}

/** A fresh, empty metrics record (never scraped). */
export function emptyMetrics(): EndpointMetrics {
  return {
    waiting: 0,
    running: 0,
    kvCacheUsage: 0,
    activeAdapters: new Set(),
    waitingAdapters: new Set(),
    maxActiveAdapters: 0,
    // Every field present from the start, so all records share one object shape (fast scorers).
    blockSize: undefined,
    numGpuBlocks: undefined,
    counters: undefined,
    updatedAt: 0,
    inFlightRequestsAtScrape: 0,
    answeredAtRecentScrapes: 0,
  };
}
