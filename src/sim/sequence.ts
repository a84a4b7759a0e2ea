import type { FinishReason } from "./engine-types.ts";

/** Where a sequence is in the engine. */
export type SequenceStatus = "waiting" | "running" | "finished";

/**
 * One request inside the engine: its tokens (prompt then output), how many are computed (have KV),
 * the KV blocks it holds and its timestamps (engine clock, ms). Owned and mutated by the engine only.
 */
export class Sequence {
  readonly id: string;
  /** Prompt token ids followed by generated token ids. */
  readonly tokens: number[];
  readonly promptLen: number;
  readonly maxTokens: number;
  /** Number of output tokens this sequence will produce (<= maxTokens). */
  readonly target: number;
  readonly adapter: string | null;
  /** vLLM's integer LoRA id (for KV events); null for the base model. */
  readonly loraId: number | null;
  /** vLLM's cache_salt (an extra key of block 0's hash), or null. */
  readonly cacheSalt: string | null;
  readonly priority: number;
  readonly arrival: number;
  /** Seed for the output words. */
  readonly wordSeed: number;
  status: SequenceStatus = "waiting";
  numComputed = 0;
  blocks: number[] = [];
  /** vLLM block hashes (32-byte digests) of the full blocks of `tokens` hashed so far (tokens never change). */
  readonly digests: Buffer[] = [];
  /** blockHashKey of each digest (the prefix cache's Map key). */
  readonly keys: number[] = [];
  /** Full blocks of this sequence already registered in the prefix cache. */
  numCachedBlocks = 0;
  /** Prefix-cache hit (tokens) at the first admission; -1 before it. */
  cachedPromptTokens = -1;
  firstScheduled = Number.NaN;
  firstToken = Number.NaN;
  lastToken = Number.NaN;
  finishedAt = Number.NaN;
  finishReason: FinishReason | null = null;
  preemptions = 0;

  constructor(
    id: string,
    prompt: number[],
    maxTokens: number,
    target: number,
    adapter: string | null,
    loraId: number | null,
    cacheSalt: string | null,
    priority: number,
    arrival: number,
    wordSeed: number,
  ) {
    this.id = id;
    this.tokens = prompt.slice();
    this.promptLen = prompt.length;
    this.maxTokens = maxTokens;
    this.target = target;
    this.adapter = adapter;
    this.loraId = loraId;
    this.cacheSalt = cacheSalt;
    this.priority = priority;
    this.arrival = arrival;
    this.wordSeed = wordSeed;
  }

  /** Output tokens generated so far. */
  get numOutput(): number {
    return this.tokens.length - this.promptLen;
  }
}
