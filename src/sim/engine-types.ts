import type { HashAlgo } from "../kvcache/vllm-block-hash.ts";

/** Step-time model: step = baseMs + P·prefillUs + D·decodeUs + Σctx·attnUs (µs → ms), × (1 ± jitter). */
export interface StepCosts {
  baseMs: number;
  prefillUsPerToken: number;
  decodeUsPerSeq: number;
  attnUsPerCtxToken: number;
  /** Relative jitter amplitude in [0, 1): each step is scaled by a uniform factor in [1-j, 1+j]. */
  jitter: number;
}

/** Everything the engine needs; built from CLI/YAML options by options.ts. Times in ms. */
export interface EngineConfig {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  blockSize: number;
  numGpuBlocks: number;
  maxModelLen: number;
  enablePrefixCaching: boolean;
  enableLora: boolean;
  maxLoras: number;
  maxCpuLoras: number;
  /** Cold adapter load (disk -> CPU cache) added to the step that first uses it. */
  loraLoadMs: number;
  /** Adapter activation (CPU -> GPU slot) added to a step whose batch brings in a new adapter. */
  loraActivateMs: number;
  schedulingPolicy: "fcfs" | "priority";
  /** vLLM's --prefix-caching-hash-algo. */
  hashAlgo: HashAlgo;
  /** The server's PYTHONHASHSEED (seeds NONE_HASH); null = random, as vLLM without the variable. */
  hashSeed: string | null;
  /** Record KV-cache events (BlockStored / BlockRemoved / AllBlocksCleared) for takeEvents(). */
  kvEvents: boolean;
  costs: StepCosts;
  /** Probability that a step stalls, and the stall length. */
  stallProb: number;
  stallMs: number;
  /** Mean of the geometric output-length draw used when ignore_eos is false. */
  eosMean: number;
  /** Seed of the engine's PRNG (jitter, output lengths, output words). */
  seed: number;
  /**
   * The simulated clock's speed-up over real time (--time-scale). The metrics give durations in
   * real seconds (simulated ms ÷ 1000 ÷ timeScale), as a server that ran at that speed would, so
   * they agree with what clients and the gateway measure.
   */
  timeScale: number;
}

/** Why a sequence finished, as vLLM's finish_reason / request_success label. */
export type FinishReason = "stop" | "length" | "abort";

/** What the HTTP layer hands the engine. */
export interface NewRequest {
  id: string;
  promptTokens: number[];
  maxTokens: number;
  /** true: generate exactly maxTokens; false: draw the length (geometric, mean eosMean), capped. */
  ignoreEos: boolean;
  /** LoRA adapter name, or null for the base model. */
  adapter: string | null;
  /** vLLM's integer id of the adapter (BlockStored.lora_id); null for the base model. */
  loraId?: number | null;
  /** Lower runs first under the priority policy. */
  priority: number;
  /** vLLM's cache_salt: mixed into the first block's hash, so only requests with the same salt share a cached prefix. */
  cacheSalt?: string | null;
}
