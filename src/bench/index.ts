/**
 * Programmatic API of the serving benchmark (used by `igw bench` and, in-process, by `igw demo`):
 * build a BenchConfig, `await runBenchmark(config)`, then `formatReport(run, ...)` /
 * `buildResultJson(run, ...)` / `writeChart(run, path)`.
 */
export { renderChartSvg, writeChart } from "./chart.ts";
export type { BenchConfig, ClassOverrides, TrafficClass } from "./config.ts";
export { defaultBenchConfig, defaultClass, parseClassSpec, resolveClass } from "./config.ts";
export type { BenchmarkMetrics, PercentileMetric, Slo } from "./metrics.ts";
export { computeMetrics } from "./metrics.ts";
export { formatBlock, formatReport, type ReportOptions } from "./report.ts";
export type { RequestOutput } from "./request-output.ts";
export { buildResultJson, type ResultMeta, resultFileName } from "./result-json.ts";
export { runBenchmark } from "./run-benchmark.ts";
export type { BenchmarkRun, ClassRun } from "./run-types.ts";
export { loadWorkload } from "./workload-file.ts";
