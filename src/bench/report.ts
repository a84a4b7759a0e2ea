import type { PercentileMetric } from "./metrics.ts";
import { centre, padLeftAligned, pyFixed, pyFloatRepr } from "./python-format.ts";
import type { BenchmarkRun, ClassRun } from "./run-types.ts";

/** What to print: vLLM's `--percentile-metrics`, `--metric-percentiles`, and the layout. */
export interface ReportOptions {
  percentileMetrics: readonly PercentileMetric[];
  metricPercentiles: readonly number[];
  /** Print the v0.8 `benchmark_serving.py` layout (the seed's) instead of the current one. */
  legacy?: boolean;
  /** Print the "Failed requests during benchmark run detected" lines before each block (default true). */
  errorLines?: boolean;
}

const SECTIONS: ReadonlyArray<[PercentileMetric, string, string]> = [
  ["ttft", "TTFT", "Time to First Token"],
  ["tpot", "TPOT", "Time per Output Token (excl. 1st token)"],
  ["itl", "ITL", "Inter-token Latency"],
  ["e2el", "E2EL", "End-to-end Latency"],
  ["client_queue_time", "Client Queue Time", "Client-side Queueing"],
  ["e2el_including_client_queue", "E2EL incl. Client Queue", "Queue-inclusive End-to-end Latency"],
];

const intRow = (label: string, v: number | string): string =>
  `${padLeftAligned(label, 40)} ${padLeftAligned(String(v), 10)}`;
const floatRow = (label: string, v: number): string =>
  `${padLeftAligned(label, 40)} ${padLeftAligned(pyFixed(v, 2), 10)}`;

/** `P99`, `P99.9`: vLLM's percentile word. */
export function percentileWord(p: number): string {
  return Number.isInteger(p) ? String(p) : pyFloatRepr(p);
}

/** "429=12 503=3 other=0": failures by HTTP status, ascending, then the non-HTTP ones. */
export function formatFailedByStatus(errorsByStatus: Record<string, number>): string {
  const codes = Object.keys(errorsByStatus)
    .filter((k) => k !== "other")
    .sort((a, b) => Number(a) - Number(b));
  return [...codes.map((c) => `${c}=${errorsByStatus[c]}`), `other=${errorsByStatus["other"] ?? 0}`].join(
    " ",
  );
}

/** Block title: the standard one, or ` Class <name> (model=…, priority=…) ` for a class. */
export function classTitle(c: ClassRun): string {
  const prio = c.priority === undefined ? "" : `, priority=${c.priority}`;
  return ` Class ${c.name} (model=${c.model}${prio}) `;
}

/**
 * One result block, lines joined by "\n" with a trailing "\n": vLLM's current layout (or the
 * legacy one), plus the three class rows after "Failed requests:" when `extraRows` is set.
 */
export function formatBlock(c: ClassRun, title: string, extraRows: boolean, opts: ReportOptions): string {
  const m = c.metrics;
  const lines: string[] = [];
  if (opts.errorLines !== false && m.failed > 0) {
    lines.push("Failed requests during benchmark run detected (capping to 10):");
    c.outputs
      .filter((o) => !o.success)
      .slice(0, 10)
      .forEach((o, i) => {
        lines.push(`Error ${i}: ${o.error}`);
      });
  }
  const goodput = c.goodputEnabled;
  lines.push(centre(title, 50, "="));
  lines.push(intRow("Successful requests:", m.completed));
  if (!opts.legacy) {
    lines.push(intRow("Failed requests:", m.failed));
    if (extraRows) {
      lines.push(intRow("Failed by status:", formatFailedByStatus(m.errorsByStatus)));
      const total = c.outputs.length;
      lines.push(floatRow("Goodput ratio (%):", total === 0 ? 0 : (100 * m.goodCompleted) / total));
      lines.push(floatRow("Mean client queue (ms):", m.meanClientQueueMs));
    }
    if (c.maxConcurrency !== null) lines.push(intRow("Maximum request concurrency:", c.maxConcurrency));
    if (c.requestRate !== Number.POSITIVE_INFINITY) {
      lines.push(floatRow("Request rate configured (RPS):", c.requestRate));
    }
  }
  lines.push(floatRow("Benchmark duration (s):", c.durationS));
  lines.push(intRow("Total input tokens:", m.totalInput));
  lines.push(intRow("Total generated tokens:", m.totalOutput));
  lines.push(floatRow("Request throughput (req/s):", m.requestThroughput));
  if (goodput) lines.push(floatRow("Request goodput (req/s):", m.requestGoodput));
  lines.push(floatRow("Output token throughput (tok/s):", m.outputThroughput));
  if (opts.legacy) {
    lines.push(floatRow("Total Token throughput (tok/s):", m.totalTokenThroughput));
  } else {
    lines.push(floatRow("Peak output token throughput (tok/s):", m.maxOutputTokensPerS));
    lines.push(floatRow("Peak concurrent requests:", m.maxConcurrentRequests));
    lines.push(floatRow("Total token throughput (tok/s):", m.totalTokenThroughput));
  }
  for (const [key, name, header] of SECTIONS) {
    if (!opts.percentileMetrics.includes(key)) continue;
    if (key === "client_queue_time" && (c.maxConcurrency === null || opts.legacy)) continue;
    if (
      key === "e2el_including_client_queue" &&
      (c.maxConcurrency === null || c.requestRate === Number.POSITIVE_INFINITY || opts.legacy)
    ) {
      continue;
    }
    const s = m.summaries[key];
    lines.push(centre(header, 50, "-"));
    lines.push(floatRow(`Mean ${name} (ms):`, s.mean));
    lines.push(floatRow(`Median ${name} (ms):`, s.median));
    for (const [p, v] of s.percentiles) lines.push(floatRow(`P${percentileWord(p)} ${name} (ms):`, v));
  }
  lines.push("=".repeat(50));
  return lines.join("\n") + "\n";
}

/**
 * The text report of a run: for a plain (vLLM-compatible) run the single standard block; with
 * traffic classes one block per class, then the aggregate block, all with the three extra rows.
 */
export function formatReport(run: BenchmarkRun, opts: ReportOptions): string {
  if (!run.multiClass) {
    const only = run.classes[0] ?? run.aggregate;
    return formatBlock(only, " Serving Benchmark Result ", false, opts);
  }
  const blocks = run.classes.map((c) => formatBlock(c, classTitle(c), true, opts));
  blocks.push(formatBlock(run.aggregate, " Serving Benchmark Result ", true, { ...opts, errorLines: false }));
  return blocks.join("\n");
}
