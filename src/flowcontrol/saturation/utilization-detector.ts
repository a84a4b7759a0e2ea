/**
 * `utilization-detector` (default): a pod's saturation is max(queue / queueDepthThreshold,
 * kv / kvCacheUtilThreshold), 1.0 when its metrics are stale (older than the threshold, or marked
 * stale by the datastore — a never-scraped endpoint is, once scrapers run); the pool's is the mean.
 * Queue depth is the scraped waiting count plus the change in the gateway's in-flight requests
 * since that scrape started: what it dispatched since counts as waiting at once (a burst is seen
 * before the next scrape), what finished since frees a place, and what the last second's scrapes
 * found already answered lets as many more through (an instant server's in-flight swings are no
 * queue).
 */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { Candidate } from "../../scheduling/types.ts";
import { durationMsSchema } from "../quantity-schemas.ts";
import type { SaturationDetector } from "../types.ts";

export interface UtilizationDetectorParams {
  /** Waiting requests per server at which it counts as full (default 5). */
  queueDepthThreshold: number;
  /** KV-cache utilisation in (0, 1] at which a server counts as full (default 0.8). */
  kvCacheUtilThreshold: number;
  /** Metrics older than this (ms) make a server count as full (default 200). */
  metricsStalenessThresholdMs: number;
  /** Fraction above the thresholds that filter() still lets through (default 0). */
  headroom: number;
}

export const UTILIZATION_DEFAULTS: UtilizationDetectorParams = {
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  metricsStalenessThresholdMs: 200,
  headroom: 0,
};

export class UtilizationDetector implements SaturationDetector {
  readonly type = "utilization-detector";
  readonly name: string;
  readonly params: UtilizationDetectorParams;

  constructor(params: Partial<UtilizationDetectorParams> = {}, name = "utilization-detector") {
    this.params = { ...UTILIZATION_DEFAULTS, ...params };
    this.name = name;
  }

  /** Pool saturation: mean pod saturation; Infinity with no endpoints (so requests wait for one). */
  saturation(candidates: readonly Candidate[], now: number): number {
    if (candidates.length === 0) return Number.POSITIVE_INFINITY;
    let sum = 0;
    for (const c of candidates) sum += this.podSaturation(c, now);
    return sum / candidates.length;
  }

  /** One endpoint's saturation: >= 1 means full; stale or never-scraped metrics = 1. */
  podSaturation(c: Candidate, now: number): number {
    if (this.isStale(c, now)) return 1;
    const { queueDepthThreshold: qT, kvCacheUtilThreshold: kvT } = this.params;
    return Math.max(queueDepth(c) / qT, c.metrics.kvCacheUsage / kvT);
  }

  /**
   * Endpoints with room: queue below qT·(1+headroom) and KV below min(1, kvT·(1+headroom)), fresh
   * metrics. Returns all candidates when none qualify (never starves the scheduler).
   */
  filter(candidates: readonly Candidate[], now: number): readonly Candidate[] {
    const { queueDepthThreshold: qT, kvCacheUtilThreshold: kvT, headroom } = this.params;
    const qMax = qT * (1 + headroom);
    const kvMax = Math.min(1, kvT * (1 + headroom));
    const kept = candidates.filter(
      (c) => !this.isStale(c, now) && queueDepth(c) < qMax && c.metrics.kvCacheUsage < kvMax,
    );
    return kept.length > 0 ? kept : candidates;
  }

  private isStale(c: Candidate, now: number): boolean {
    // Never scraped: the datastore decides (stale once a scraper runs; before, in-flight counts alone).
    if (c.stale || c.metrics.updatedAt === 0) return c.stale;
    return now - c.metrics.updatedAt > this.params.metricsStalenessThresholdMs;
  }
}

/**
 * Requests waiting at the server now: the scraped waiting count, plus the gateway's dispatches since
 * the scrape started, less its requests that finished since (each freed a place a waiting one takes),
 * less those the scrapes no longer found there (in flight at a scrape's start, neither running nor
 * waiting: answered already, or on the way; the most over the last second's scrapes, since one
 * scrape may fall on a lull). A server that answers faster than it is scraped (an instant engine)
 * absorbs as many again, so the in-flight count's swings between scrapes are no queue there; an idle
 * or a slow server's in-flight requests are all its load, so a burst there counts at once.
 */
function queueDepth(c: Candidate): number {
  const m = c.metrics;
  const atScrape = m.inFlightRequestsAtScrape ?? 0;
  const answered = Math.max(0, atScrape - m.running - m.waiting, m.answeredAtRecentScrapes ?? 0);
  return Math.max(0, m.waiting + c.inFlight.requests - atScrape - answered);
}

export const utilizationDetectorPlugin = definePlugin({
  type: "utilization-detector",
  kind: "saturation-detector",
  description: "saturation from scraped queue depth and KV-cache use against thresholds (the default)",
  parameters: z.strictObject({
    queueDepthThreshold: z.number().positive().optional(),
    kvCacheUtilThreshold: z.number().gt(0).max(1).optional(),
    /** Go duration (`200ms`) or milliseconds. */
    metricsStalenessThreshold: durationMsSchema.optional(),
    headroom: z.number().nonnegative().optional(),
  }),
  create: (name, p) =>
    new UtilizationDetector(
      {
        ...(p.queueDepthThreshold !== undefined && { queueDepthThreshold: p.queueDepthThreshold }),
        ...(p.kvCacheUtilThreshold !== undefined && { kvCacheUtilThreshold: p.kvCacheUtilThreshold }),
        ...(p.metricsStalenessThreshold !== undefined && {
          metricsStalenessThresholdMs: p.metricsStalenessThreshold,
        }),
        ...(p.headroom !== undefined && { headroom: p.headroom }),
      },
      name,
    ),
});
