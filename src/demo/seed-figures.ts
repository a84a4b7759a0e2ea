/**
 * The seed's experiment (ACK Gateway with Inference Extension, 5 × A10, Qwen-2.5-7B): its two
 * benchmark commands and the published results (docs "Implement inference request queueing and
 * priority scheduling", Aug 2025), for the demo's comparison table.
 */

/** One benchmark command of the seed: `--random-*` lengths, concurrency and prompts. */
export const SEED_WORKLOAD = {
  prefixLen: 1000,
  inputLen: 3000,
  outputLen: 3000,
  rangeRatio: 0.2,
  maxConcurrency: 60,
  numPrompts: 300,
} as const;

/** Published figures of one class (times in ms, duration in s). */
export interface PublishedClass {
  readonly completed: number;
  readonly numPrompts: number;
  readonly durationS: number;
  readonly meanTtftMs: number;
  readonly medianTtftMs: number;
  readonly p99TtftMs: number;
  readonly meanTpotMs: number;
}

export const SEED_RESULTS: { readonly critical: PublishedClass; readonly standard: PublishedClass } = {
  critical: {
    completed: 293,
    numPrompts: 300,
    durationS: 1005.55,
    meanTtftMs: 21329.91,
    medianTtftMs: 15754.01,
    p99TtftMs: 140782.55,
    meanTpotMs: 58.58,
  },
  standard: {
    completed: 165,
    numPrompts: 300,
    durationS: 889.41,
    meanTtftMs: 44201.12,
    medianTtftMs: 28757.03,
    p99TtftMs: 214710.13,
    meanTpotMs: 67.38,
  },
};
