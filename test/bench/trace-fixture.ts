import { readFileSync } from "node:fs";
import { computeMetrics, type PercentileMetric, type Slo } from "../../src/bench/metrics.ts";
import type { RequestOutput } from "../../src/bench/request-output.ts";
import type { ClassRun } from "../../src/bench/run-types.ts";

interface TraceFile {
  duration: number;
  max_concurrency: number | null;
  request_rate: number | string;
  percentile_metrics: PercentileMetric[];
  metric_percentiles: number[];
  goodput: Slo | null;
  outputs: Array<{
    success: boolean;
    status: number;
    error: string;
    ttft: number;
    itl: number[];
    latency: number;
    start_time: number;
    output_tokens: number;
    prompt_len: number;
    client_queue_time: number;
  }>;
}

/** The fixed synthetic trace in golden/trace.json as a ClassRun (the same data the Python oracle reads). */
export function loadTraceRun(): { run: ClassRun; trace: TraceFile } {
  const trace = JSON.parse(
    readFileSync(new URL("./golden/trace.json", import.meta.url), "utf8"),
  ) as TraceFile;
  const outputs: RequestOutput[] = trace.outputs.map((o) => ({
    success: o.success,
    status: o.status,
    error: o.error,
    ttft: o.ttft,
    itl: o.itl,
    latency: o.latency,
    startTime: o.start_time,
    clientQueueTime: o.client_queue_time,
    promptLen: o.prompt_len,
    outputTokens: o.output_tokens,
    chunks: o.success ? o.itl.length + 1 : 0,
    generatedText: "",
    classIndex: 0,
  }));
  const slo = trace.goodput ?? undefined;
  const run: ClassRun = {
    name: "m",
    model: "m",
    priority: undefined,
    requestRate: Number(trace.request_rate),
    burstiness: 1,
    maxConcurrency: trace.max_concurrency,
    numPrompts: outputs.length,
    slo,
    goodputEnabled: slo !== undefined,
    durationS: trace.duration,
    outputs,
    metrics: computeMetrics(outputs, trace.duration, {
      percentiles: trace.metric_percentiles,
      sloOf: () => slo,
    }),
  };
  return { run, trace };
}
