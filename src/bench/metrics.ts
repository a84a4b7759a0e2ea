import type { RequestOutput } from "./request-output.ts";
import { mean, type Summary, summarize } from "./stats.ts";

/** Goodput SLOs in milliseconds (`--goodput ttft:300 tpot:50 e2el:5000`). */
export type Slo = Partial<Record<"ttft" | "tpot" | "e2el", number>>;

/** Metric names accepted by `--percentile-metrics`. */
export const PERCENTILE_METRICS = [
  "ttft",
  "tpot",
  "itl",
  "e2el",
  "client_queue_time",
  "e2el_including_client_queue",
] as const;
export type PercentileMetric = (typeof PERCENTILE_METRICS)[number];

/** vLLM's BenchmarkMetrics plus the per-status failure breakdown and goodput count. */
export interface BenchmarkMetrics {
  completed: number;
  failed: number;
  totalInput: number;
  totalOutput: number;
  requestThroughput: number;
  requestGoodput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
  /** Summaries in ms, keyed by metric name (ttft, tpot, itl, e2el, client_queue_time, e2el_including_client_queue). */
  summaries: Record<PercentileMetric, Summary>;
  maxOutputTokensPerS: number;
  maxConcurrentRequests: number;
  /** Output tokens per request in request order (0 for failures), vLLM's actual_output_lens. */
  outputLens: number[];
  /** Good requests (met every SLO; all successes when no SLO is given). */
  goodCompleted: number;
  /** Failures by HTTP status ("429", "503", ...) plus "other" for no-response / bad-stream failures. */
  errorsByStatus: Record<string, number>;
  /** Mean time successes waited for the concurrency limit, ms. */
  meanClientQueueMs: number;
}

/** Options of `computeMetrics`. */
export interface MetricOptions {
  /** Percentiles to compute (`--metric-percentiles`), e.g. [99]. */
  percentiles: readonly number[];
  /** SLO of each output (by its class), or undefined for "no SLO". */
  sloOf: (o: RequestOutput) => Slo | undefined;
}

/** Output tokens counted for a successful request: usage, else its chunk count, else 1. */
export function outputTokensOf(o: RequestOutput): number {
  return o.outputTokens || o.chunks || 1;
}

/** TPOT of a success in seconds: (E2EL − TTFT)/(tokens − 1), 0 when tokens <= 1. */
export function tpotOf(o: RequestOutput): number {
  const n = outputTokensOf(o);
  return n > 1 ? (o.latency - o.ttft) / (n - 1) : 0;
}

/** Whether a success met every SLO it has (ms); true when it has none. */
export function isGood(o: RequestOutput, slo: Slo | undefined): boolean {
  if (!o.success) return false;
  if (!slo) return true;
  if (slo.ttft !== undefined && o.ttft > slo.ttft / 1000) return false;
  if (slo.tpot !== undefined && tpotOf(o) > slo.tpot / 1000) return false;
  if (slo.e2el !== undefined && o.latency > slo.e2el / 1000) return false;
  return true;
}

/** Fullest 1 s bin of token-chunk times, relative to the earliest successful start (vLLM's peak). */
export function peakOutputTokensPerS(successes: readonly RequestOutput[]): number {
  if (successes.length === 0) return 0;
  let minStart = Number.POSITIVE_INFINITY;
  let maxEnd = Number.NEGATIVE_INFINITY;
  for (const o of successes) {
    minStart = Math.min(minStart, o.startTime);
    maxEnd = Math.max(maxEnd, o.startTime + o.latency);
  }
  const bins = new Float64Array(Math.ceil(maxEnd - minStart) + 1);
  for (const o of successes) {
    let t = o.startTime + o.ttft;
    const add = (time: number) => {
      const b = Math.trunc(time - minStart);
      if (b >= 0 && b < bins.length) bins[b]! += 1;
    };
    add(t);
    for (const gap of o.itl) {
      t += gap;
      add(t);
    }
  }
  let max = 0;
  for (const v of bins) max = Math.max(max, v);
  return max;
}

/** Exact peak overlap of successes' half-open [start, start+latency) intervals (sweep line). */
export function peakConcurrency(successes: readonly RequestOutput[]): number {
  const events: Array<[number, number]> = [];
  for (const o of successes) {
    events.push([o.startTime, 1], [o.startTime + o.latency, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of events) {
    cur += d;
    if (cur > peak) peak = cur;
  }
  return peak;
}

/** Aggregates outputs over `durationS` exactly as vLLM's calculate_metrics (plus our extras). */
export function computeMetrics(
  outputs: readonly RequestOutput[],
  durationS: number,
  opts: MetricOptions,
): BenchmarkMetrics {
  const outputLens: number[] = [];
  let totalInput = 0;
  let completed = 0;
  let good = 0;
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const e2els: number[] = [];
  const itls: number[] = [];
  const queues: number[] = [];
  const e2elsWithQueue: number[] = [];
  const errorsByStatus: Record<string, number> = {};
  const successes: RequestOutput[] = [];
  for (const o of outputs) {
    if (!o.success) {
      outputLens.push(0);
      const key = o.status && o.status !== 200 ? String(o.status) : "other";
      errorsByStatus[key] = (errorsByStatus[key] ?? 0) + 1;
      continue;
    }
    successes.push(o);
    const n = outputTokensOf(o);
    outputLens.push(n);
    totalInput += o.promptLen;
    if (n > 1) tpots.push((o.latency - o.ttft) / (n - 1));
    for (const g of o.itl) itls.push(g);
    ttfts.push(o.ttft);
    e2els.push(o.latency);
    queues.push(o.clientQueueTime);
    e2elsWithQueue.push(o.latency + o.clientQueueTime);
    completed++;
    if (isGood(o, opts.sloOf(o))) good++;
  }
  let totalOutput = 0;
  for (const n of outputLens) totalOutput += n;
  const p = opts.percentiles;
  return {
    completed,
    failed: outputs.length - completed,
    totalInput,
    totalOutput,
    requestThroughput: completed / durationS,
    requestGoodput: good / durationS,
    outputThroughput: totalOutput / durationS,
    totalTokenThroughput: (totalInput + totalOutput) / durationS,
    summaries: {
      ttft: summarize(ttfts, p, 1000),
      tpot: summarize(tpots, p, 1000),
      itl: summarize(itls, p, 1000),
      e2el: summarize(e2els, p, 1000),
      client_queue_time: summarize(queues, p, 1000),
      e2el_including_client_queue: summarize(e2elsWithQueue, p, 1000),
    },
    maxOutputTokensPerS: peakOutputTokensPerS(successes),
    maxConcurrentRequests: peakConcurrency(successes),
    outputLens,
    goodCompleted: good,
    errorsByStatus,
    meanClientQueueMs: mean(queues) * 1000,
  };
}
