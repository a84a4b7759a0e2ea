import type { PercentileMetric } from "./metrics.ts";
import { pyFloatRepr } from "./python-format.ts";
import { percentileWord } from "./report.ts";
import type { BenchmarkRun, ClassRun } from "./run-types.ts";

/** Run-level facts the saved JSON records besides the measurements (vLLM's result_json header). */
export interface ResultMeta {
  /** `--backend` as given ("vllm", "openai", "openai-chat"). */
  backend: string;
  label: string | null;
  /** `--model` (or the served name when only that is known). */
  modelId: string;
  tokenizerId: string;
  numPrompts: number;
  /** `--metadata K=V` pairs, stored at the top level. */
  metadata: Record<string, string>;
  requestRate: number;
  burstiness: number;
  maxConcurrency: number | null;
  rampUp?: { strategy: string; startRps: number; endRps: number };
  percentileMetrics: readonly PercentileMetric[];
  /** Keep per-request lists (input_lens, output_lens, ttfts, itls, start_times, generated_texts, errors). */
  saveDetailed: boolean;
}

/** vLLM's `YYYYMMDD-HHMMSS` in local time. */
export function formatDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A rate for JSON: the number, or the string "inf" (vLLM writes request_rate this way). */
const rateJson = (r: number): number | string => (r === Number.POSITIVE_INFINITY ? "inf" : r);

/** Whether a metric's keys appear: selected, and client-queue ones only with a concurrency limit. */
function metricShown(c: ClassRun, key: PercentileMetric, selected: readonly PercentileMetric[]): boolean {
  if (!selected.includes(key)) return false;
  if (key === "client_queue_time") return c.maxConcurrency !== null;
  if (key === "e2el_including_client_queue") {
    return c.maxConcurrency !== null && c.requestRate !== Number.POSITIVE_INFINITY;
  }
  return true;
}

/** The measurement keys of one block, in vLLM's order, plus `errors_by_status`. */
export function measurementJson(c: ClassRun, meta: ResultMeta): Record<string, unknown> {
  const m = c.metrics;
  const o: Record<string, unknown> = {
    duration: c.durationS,
    completed: m.completed,
    failed: m.failed,
    total_input_tokens: m.totalInput,
    total_output_tokens: m.totalOutput,
    request_throughput: m.requestThroughput,
    request_goodput: c.goodputEnabled ? m.requestGoodput : null,
    output_throughput: m.outputThroughput,
    total_token_throughput: m.totalTokenThroughput,
  };
  if (meta.saveDetailed) {
    o["input_lens"] = c.outputs.map((r) => r.promptLen);
    o["output_lens"] = m.outputLens;
    o["ttfts"] = c.outputs.map((r) => r.ttft);
    o["itls"] = c.outputs.map((r) => r.itl);
  }
  o["latencies"] = c.outputs.map((r) => r.latency);
  if (meta.saveDetailed) o["start_times"] = c.outputs.map((r) => r.startTime);
  o["queue_times"] = c.outputs.map((r) => r.clientQueueTime);
  if (meta.saveDetailed) {
    o["generated_texts"] = c.outputs.map((r) => r.generatedText);
    o["errors"] = c.outputs.map((r) => r.error);
  }
  o["max_output_tokens_per_s"] = m.maxOutputTokensPerS;
  o["max_concurrent_requests"] = m.maxConcurrentRequests;
  o["rtfx"] = 0;
  for (const key of [
    "ttft",
    "tpot",
    "itl",
    "e2el",
    "client_queue_time",
    "e2el_including_client_queue",
  ] as const) {
    if (!metricShown(c, key, meta.percentileMetrics)) continue;
    const s = m.summaries[key];
    o[`mean_${key}_ms`] = s.mean;
    o[`median_${key}_ms`] = s.median;
    o[`std_${key}_ms`] = s.std;
    for (const [p, v] of s.percentiles) o[`p${percentileWord(p)}_${key}_ms`] = v;
  }
  o["errors_by_status"] = m.errorsByStatus;
  o["goodput_ratio"] = c.outputs.length === 0 ? 0 : m.goodCompleted / c.outputs.length;
  o["mean_client_queue_ms"] = m.meanClientQueueMs;
  return o;
}

/**
 * The saved result: vLLM's keys (date, endpoint_type, backend, label, model_id, tokenizer_id,
 * num_prompts, metadata pairs, request_rate, burstiness, max_concurrency, then the measurements of
 * the aggregate), plus `errors_by_status`, `classes: {name: {...}}` for class runs and
 * `scraped_metrics` when gauges were sampled.
 */
export function buildResultJson(run: BenchmarkRun, meta: ResultMeta): Record<string, unknown> {
  const o: Record<string, unknown> = {
    date: formatDate(run.startedAt),
    endpoint_type: meta.backend,
    backend: meta.backend,
    label: meta.label,
    model_id: meta.modelId,
    tokenizer_id: meta.tokenizerId,
    num_prompts: meta.numPrompts,
    ...meta.metadata,
    request_rate: rateJson(meta.requestRate),
    burstiness: rateJson(meta.burstiness),
    max_concurrency: meta.maxConcurrency,
  };
  if (meta.rampUp) {
    o["ramp_up_strategy"] = meta.rampUp.strategy;
    o["ramp_up_start_rps"] = meta.rampUp.startRps;
    o["ramp_up_end_rps"] = meta.rampUp.endRps;
  }
  const main = run.multiClass ? run.aggregate : (run.classes[0] ?? run.aggregate);
  Object.assign(o, measurementJson(main, meta));
  if (run.multiClass) {
    o["classes"] = Object.fromEntries(
      run.classes.map((c) => [
        c.name,
        {
          model: c.model,
          priority: c.priority ?? null,
          num_prompts: c.numPrompts,
          request_rate: rateJson(c.requestRate),
          burstiness: rateJson(c.burstiness),
          max_concurrency: c.maxConcurrency,
          slo: c.slo ?? null,
          ...measurementJson(c, meta),
        },
      ]),
    );
  }
  if (run.samples.length > 0) {
    o["scraped_metrics"] = run.samples.map((s) => ({
      t: s.t,
      url: s.url,
      num_requests_running: s.running,
      num_requests_waiting: s.waiting,
      kv_cache_usage_perc: s.kvCacheUsage,
    }));
  }
  return o;
}

/** vLLM's file name: `{label|backend}-{rate}qps[-concurrency{N}]-{model basename}-{date}.json`. */
export function resultFileName(meta: ResultMeta, date: string): string {
  const base = meta.modelId.split("/").pop() ?? meta.modelId;
  const conc = meta.maxConcurrency !== null ? `-concurrency${meta.maxConcurrency}` : "";
  const label = meta.label || meta.backend;
  if (meta.rampUp) {
    const r = meta.rampUp;
    return `${label}-ramp-up-${r.strategy}-${r.startRps}qps-${r.endRps}qps${conc}-${base}-${date}.json`;
  }
  return `${label}-${pyFloatRepr(meta.requestRate)}qps${conc}-${base}-${date}.json`;
}
