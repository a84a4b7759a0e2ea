/** Staleness of scraped metrics: how old a record may get before the scheduler stops trusting it. */
import type { EndpointMetrics } from "./endpoint-metrics.ts";

/**
 * Default threshold for scheduling, ms. Larger than GIE's 200 ms saturation threshold on purpose: a
 * shared CPU delays 50 ms timers, and a stale endpoint is avoided outright (scheduling/profile-scheduler.ts).
 */
export const DEFAULT_STALENESS_MS = 1000;

/** True when the record was never scraped or its last success is older than thresholdMs at `now`. */
export function isStale(metrics: EndpointMetrics, now: number, thresholdMs = DEFAULT_STALENESS_MS): boolean {
  return metrics.updatedAt === 0 || now - metrics.updatedAt > thresholdMs;
}
