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

/** Requests sent to the endpoint since its last scrape started (≥ 0). */
export function sentSinceScrape(c: Candidate): number {
  const d = c.inFlight.requests - (c.metrics.inFlightRequestsAtScrape ?? 0);
  return Math.max(0, d);
}

/** Scraped waiting + sent since the scrape. */
export function effectiveWaiting(c: Candidate): number {
  return c.metrics.waiting + sentSinceScrape(c);
}

/** Scraped running + sent since the scrape. */
export function effectiveRunning(c: Candidate): number {
  return c.metrics.running + sentSinceScrape(c);
}

/** Scraped KV utilisation + tokens sent since the scrape over the cache size (when known), in [0, 1]. */
export function effectiveKvCacheUsage(c: Candidate): number {
  const m = c.metrics;
  let kv = m.kvCacheUsage;
  if (m.blockSize !== undefined && m.numGpuBlocks !== undefined && m.blockSize * m.numGpuBlocks > 0) {
    const tokens = c.inFlight.tokens - (m.inFlightTokensAtScrape ?? 0);
    if (tokens > 0) kv += tokens / (m.blockSize * m.numGpuBlocks);
  }
  return Math.min(1, Math.max(0, kv));
}
