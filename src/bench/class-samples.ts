/**
 * One traffic class's prompts and send offsets, drawn from its seeds exactly as runBenchmark draws
 * them (before any alignment to a server's tokenizer), so a benchmark on a virtual clock
 * (bench/routing-virtual.ts) replays the very workload the real client sends.
 */
import { arrivalOffsets } from "./arrivals.ts";
import type { TrafficClass } from "./config.ts";
import { createRng } from "./prng.ts";
import { buildRandomRequests, type SampleRequest } from "./prompts.ts";

const ARRIVAL_SEED_SALT = 0x5bd1e995;

/** The class's prompts (seed c.seed) and each one's send offset in seconds from t0 (its own seed). */
export function classSamples(c: TrafficClass): { samples: SampleRequest[]; offsets: number[] } {
  const samples = buildRandomRequests(c, createRng(c.seed));
  return { samples, offsets: classOffsets(c, samples.length) };
}

/** Send offsets (seconds from t0) of the class's first n requests. */
export function classOffsets(c: TrafficClass, n: number): number[] {
  return arrivalOffsets(
    { rate: c.requestRate, burstiness: c.burstiness, ...(c.rampUp ? { rampUp: c.rampUp } : {}) },
    n,
    createRng((c.seed ^ ARRIVAL_SEED_SALT) >>> 0),
  );
}
