/**
 * `concurrency-detector`: saturation from the gateway's own in-flight accounting, no scraping:
 * in-flight requests (or tokens) over the pool total of maxConcurrency (or maxTokenConcurrency) per endpoint.
 */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
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
  readonly name: string;
  readonly params: ConcurrencyDetectorParams;

  constructor(params: Partial<ConcurrencyDetectorParams> = {}, name = "concurrency-detector") {
    this.params = { ...CONCURRENCY_DEFAULTS, ...params };
    this.name = name;
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

export const concurrencyDetectorPlugin = definePlugin({
  type: "concurrency-detector",
  kind: "saturation-detector",
  description: "saturation from the gateway's own in-flight requests or tokens per endpoint, no scraping",
  parameters: z.strictObject({
    concurrencyMode: z.enum(["requests", "tokens"]).optional(),
    maxConcurrency: z.number().positive().optional(),
    maxTokenConcurrency: z.number().positive().optional(),
  }),
  create: (name, p) =>
    new ConcurrencyDetector(
      {
        ...(p.concurrencyMode !== undefined && { concurrencyMode: p.concurrencyMode }),
        ...(p.maxConcurrency !== undefined && { maxConcurrency: p.maxConcurrency }),
        ...(p.maxTokenConcurrency !== undefined && { maxTokenConcurrency: p.maxTokenConcurrency }),
      },
      name,
    ),
});
