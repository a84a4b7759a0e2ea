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
  readonly extraKey: number;
  /** Extra key of block 0: the adapter key mixed with the cache salt (= extraKey without a salt). */
  readonly firstBlockKey: number;
  readonly priority: number;
  readonly arrival: number;
  /** Seed for the output words. */
  readonly wordSeed: number;
  status: SequenceStatus = "waiting";
  numComputed = 0;
  blocks: number[] = [];
  /** Chained hashes of the full blocks of `tokens` computed so far (a cache; tokens never change). */
  readonly hashes: number[] = [];
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
    extraKey: number,
    firstBlockKey: number,
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
    this.extraKey = extraKey;
    this.firstBlockKey = firstBlockKey;
    this.priority = priority;
    this.arrival = arrival;
    this.wordSeed = wordSeed;
  }

  /** Output tokens generated so far. */
  get numOutput(): number {
    return this.tokens.length - this.promptLen;
  }
}
