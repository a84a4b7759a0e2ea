/**
 * The load scorers and filters see: the last scrape plus the work the gateway sent since it.
 *
 * Between two scrapes (50 ms) a busy gateway may send many requests; the engine has not reported
 * them yet, so every decision would see the same numbers and pile onto one endpoint. The scraper
 * stores the endpoint's InFlight request count at the moment the scrape started
 * (`inFlightRequestsAtScrape`); the difference to the current count is the work sent since (minus work that finished since, clamped at 0). That delta is added:
 * - to `waiting` (the engine will queue or run it; counting it as waiting is the conservative view),
 * - to `running` for the running-requests scorer.
 * KV utilisation is the scraped value (see effectiveKvCacheUsage).
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

/**
 * Scraped KV utilisation, in [0, 1]. In-flight tokens are deliberately not added: requests sharing
 * a prefix share its KV blocks, so prompt + max tokens overestimate new KV use many times over
 * exactly where prefix-aware routing concentrates traffic (measured in bench/routing.ts); the
 * request-count delta above already keeps bursts from piling up.
 */
export function effectiveKvCacheUsage(c: Candidate): number {
  return Math.min(1, Math.max(0, c.metrics.kvCacheUsage));
}
