/**
 * The load scorers and filters see: the last scrape plus the work the gateway sent since it.
 *
 * Between two scrapes (50 ms) a busy gateway may send many requests; the engine has not reported
 * them yet, so every decision would see the same numbers and pile onto one endpoint. The scraper
 * stores the endpoint's InFlight counts at the moment the scrape started
 * (`inFlightRequestsAtScrape`/`inFlightTokensAtScrape`); the difference to the current InFlight
 * counts is the work sent since (minus work that finished since, clamped at 0). That delta is added:
 * - to `waiting` (the engine will queue or run it; counting it as waiting is the conservative view),
 * - to `running` for the running-requests scorer,
 * - to `kvCacheUsage` as delta tokens / (block_size × num_gpu_blocks) when the engine reports its
 *   cache geometry (vllm:cache_config_info), clamped to 1.
 * After the next scrape the baseline moves and the engine's own numbers contain that work.
 */
import type { Candidate } from "./types.ts";

/** A candidate's effective load. waiting/running ≥ 0, kvCacheUsage ∈ [0, 1]. */
export interface EffectiveLoad {
  readonly waiting: number;
  readonly running: number;
  readonly kvCacheUsage: number;
  /** Requests sent since the last scrape started (≥ 0). */
  readonly sentSinceScrape: number;
}

/** Effective load of one candidate (see the module comment). Pure and cheap. */
export function effectiveLoad(c: Candidate): EffectiveLoad {
  const m = c.metrics;
  const sent = Math.max(0, c.inFlight.requests - (m.inFlightRequestsAtScrape ?? 0));
  let kv = m.kvCacheUsage;
  if (m.blockSize !== undefined && m.numGpuBlocks !== undefined && m.blockSize * m.numGpuBlocks > 0) {
    const tokens = Math.max(0, c.inFlight.tokens - (m.inFlightTokensAtScrape ?? 0));
    kv += tokens / (m.blockSize * m.numGpuBlocks);
  }
  return {
    waiting: m.waiting + sent,
    running: m.running + sent,
    kvCacheUsage: Math.min(1, Math.max(0, kv)),
    sentSinceScrape: sent,
  };
}
