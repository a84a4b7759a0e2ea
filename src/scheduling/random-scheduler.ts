/**
 * A minimal scheduler: no filters, no scorers, a random picker. Returns the target plus distinct
 * fallbacks in random order (at most `maxEndpoints`), used by the director's retries. Ignores
 * staleness and load. Placeholder until the plugin framework replaces it.
 */
import type { Candidate, Scheduler, SchedulingRequest, SchedulingResult } from "./types.ts";

export class RandomScheduler implements Scheduler {
  readonly #maxEndpoints: number;
  readonly #random: () => number;

  /** `maxEndpoints` ≥ 1: target + fallbacks returned per decision. */
  constructor(options: { maxEndpoints?: number; random?: () => number } = {}) {
    this.#maxEndpoints = Math.max(1, options.maxEndpoints ?? 3);
    this.#random = options.random ?? Math.random;
  }

  schedule(_request: SchedulingRequest, candidates: readonly Candidate[]): SchedulingResult {
    const pool = [...candidates];
    const out: Candidate[] = [];
    while (pool.length > 0 && out.length < this.#maxEndpoints) {
      const i = Math.floor(this.#random() * pool.length);
      out.push(pool[i]!);
      pool[i] = pool[pool.length - 1]!;
      pool.pop();
    }
    return { endpoints: out };
  }
}
