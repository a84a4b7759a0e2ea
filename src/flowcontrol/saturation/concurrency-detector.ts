/**
 * `concurrency-detector`: saturation from the gateway's own in-flight accounting, no scraping:
 * in-flight requests (or tokens) over the pool total of maxConcurrency (or maxTokenConcurrency) per endpoint.
 */
import type { Candidate } from "../../scheduling/types.ts";
import type { SaturationDetector } from "../types.ts";

export interface ConcurrencyDetectorParams {
  /** What is counted: in-flight requests, or in-flight (prompt + max output) tokens. */
  concurrencyMode: "requests" | "tokens";
  /** In-flight requests one endpoint takes before it counts as full (default 100). */
  maxConcurrency: number;
  /** In-flight tokens one endpoint takes before it counts as full (default 1,000,000). */
  maxTokenConcurrency: number;
}

export const CONCURRENCY_DEFAULTS: ConcurrencyDetectorParams = {
  concurrencyMode: "requests",
  maxConcurrency: 100,
  maxTokenConcurrency: 1_000_000,
};

export class ConcurrencyDetector implements SaturationDetector {
  readonly type = "concurrency-detector";
  readonly params: ConcurrencyDetectorParams;

  constructor(params: Partial<ConcurrencyDetectorParams> = {}) {
    this.params = { ...CONCURRENCY_DEFAULTS, ...params };
  }

  /** Σ in-flight / (endpoints × limit); Infinity with no endpoints (so requests wait for one). */
  saturation(candidates: readonly Candidate[], _now: number): number {
    if (candidates.length === 0) return Number.POSITIVE_INFINITY;
    const tokens = this.params.concurrencyMode === "tokens";
    const limit = tokens ? this.params.maxTokenConcurrency : this.params.maxConcurrency;
    let used = 0;
    for (const c of candidates) used += tokens ? c.inFlight.tokens : c.inFlight.requests;
    return used / (limit * candidates.length);
  }
}
