import type { EngineStats } from "./engine-stats.ts";
import type { EngineConfig } from "./engine-types.ts";
import type { Histogram } from "./histogram.ts";

/** Which metric names to publish: vLLM V1 (default), V0, or V1 plus the old V0 aliases. */
export type MetricsCompat = "v0" | "v1" | "both";

/** What the exposition needs besides the stats. */
export interface ExpositionContext {
  modelName: string;
  engineLabel: string;
  compat: MetricsCompat;
  config: EngineConfig;
  gpuMemoryUtilization: number;
  /** --num-gpu-blocks-override as given (undefined = not set). */
  numGpuBlocksOverride: number | undefined;
  /**
   * prometheus_client's `?name[]=` filter (its restricted registry): only samples with these exact
   * names, and a family's HELP and TYPE only when one of its samples is kept. Undefined: everything.
   */
  sampleNames?: ReadonlySet<string> | undefined;
}

/** Python prometheus_client's number format (floatToGoString): 1 -> "1.0", 1e6 -> "1e+06". */
export function goFloat(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  let s = Number.isInteger(v) && Math.abs(v) < 1e16 ? `${v}.0` : String(v);
  if (s.includes("e")) return s.replace(/e([+-])(\d)$/, "e$10$2");
  const dot = s.indexOf(".");
  if (v > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/0+$/, "").replace(/\.$/, "");
    s = `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: ReadonlyArray<readonly [string, string]>): string {
  return labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;
}

type Labels = ReadonlyArray<readonly [string, string]>;

class Writer {
  readonly lines: string[] = [];
  readonly #keep: ReadonlySet<string> | undefined;
  /** A filtered family's HELP and TYPE, written before its first kept sample. */
  #head: [string, string] | undefined;

  constructor(keep: ReadonlySet<string> | undefined) {
    this.#keep = keep;
  }

  head(name: string, type: string, help: string): void {
    const lines: [string, string] = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
    if (this.#keep === undefined) this.lines.push(...lines);
    else this.#head = lines;
  }

  sample(name: string, labels: Labels, v: number): void {
    if (this.#keep !== undefined) {
      if (!this.#keep.has(name)) return;
      if (this.#head !== undefined) this.lines.push(...this.#head);
      this.#head = undefined;
    }
    this.lines.push(`${name}${labelText(labels)} ${goFloat(v)}`);
  }

  gauge(name: string, help: string, labels: Labels, v: number): void {
    this.head(name, "gauge", help);
    this.sample(name, labels, v);
  }

  counter(name: string, help: string, labels: Labels, v: number): void {
    this.head(`${name}_total`, "counter", help);
    this.sample(`${name}_total`, labels, v);
  }

  histogram(name: string, help: string, labels: Labels, h: Histogram): void {
    this.head(name, "histogram", help);
    let cum = 0;
    // Filtered without its buckets (the gateway's scrape): skip building ~20 label sets to drop them.
    if (this.#keep === undefined || this.#keep.has(`${name}_bucket`))
      for (let i = 0; i < h.bounds.length; i++) {
        cum += h.counts[i]!;
        this.sample(`${name}_bucket`, [...labels, ["le", goFloat(h.bounds[i]!)]], cum);
      }
    this.sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], h.count);
    this.sample(`${name}_count`, labels, h.count);
    this.sample(`${name}_sum`, labels, h.sum);
  }
}

/** Renders the engine's metrics in Prometheus text format 0.0.4, with vLLM's names, labels and buckets. */
export function renderMetrics(st: EngineStats, ctx: ExpositionContext): string {
  const w = new Writer(ctx.sampleNames);
  const v1 = ctx.compat !== "v0";
  const base: Labels = v1
    ? [
        ["model_name", ctx.modelName],
        ["engine", ctx.engineLabel],
      ]
    : [["model_name", ctx.modelName]];
  const cfg = ctx.config;

  w.gauge("vllm:num_requests_running", "Number of requests in model execution batches.", base, st.numRunning);
  w.gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", base, st.numWaiting);
  if (v1) w.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", base, st.kvUsage);
  if (ctx.compat !== "v1") {
    w.gauge(
      "vllm:gpu_cache_usage_perc",
      "GPU KV-cache usage. 1 means 100 percent usage." +
        (v1 ? " DEPRECATED: Use vllm:kv_cache_usage_perc instead." : ""),
      base,
      st.kvUsage,
    );
  }
  if (ctx.compat === "v0") {
    w.gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", base, 0);
    w.gauge("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.", base, 0);
  }
  if (cfg.enableLora) {
    w.head("vllm:lora_requests_info", "gauge", "Running stats on lora requests.");
    for (const [key, ts] of st.loraInfo) {
      const [running = "", waiting = ""] = key.split("|");
      w.sample(
        "vllm:lora_requests_info",
        [
          ["max_lora", String(cfg.maxLoras)],
          ["waiting_lora_adapters", waiting],
          ["running_lora_adapters", running],
        ],
        ts,
      );
    }
  }
  // CacheConfig fields in declaration order, values as Python's str().
  const cacheLabels: Labels = [
    ["block_size", String(cfg.blockSize)],
    ["gpu_memory_utilization", String(ctx.gpuMemoryUtilization)],
    ["swap_space", "4"],
    ["cache_dtype", "auto"],
    ["is_attention_free", "False"],
    [
      "num_gpu_blocks_override",
      ctx.numGpuBlocksOverride === undefined ? "None" : String(ctx.numGpuBlocksOverride),
    ],
    ["sliding_window", "None"],
    ["enable_prefix_caching", cfg.enablePrefixCaching ? "True" : "False"],
    ["prefix_caching_hash_algo", "sha256"],
    ["cpu_offload_gb", "0"],
    ["calculate_kv_scales", "False"],
    ["num_gpu_blocks", String(cfg.numGpuBlocks)],
    ["num_cpu_blocks", "None"],
    ...(v1 ? [["engine", ctx.engineLabel] as const] : []),
  ];
  w.gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", cacheLabels, 1);

  w.counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", base, st.preemptions);
  w.counter(
    "vllm:prefix_cache_queries",
    "Prefix cache queries, in terms of number of queried tokens.",
    base,
    st.prefixQueries,
  );
  w.counter(
    "vllm:prefix_cache_hits",
    "Prefix cache hits, in terms of number of cached tokens.",
    base,
    st.prefixHits,
  );
  if (ctx.compat === "both") {
    w.counter(
      "vllm:gpu_prefix_cache_queries",
      "GPU prefix cache queries, in terms of number of queried tokens. DEPRECATED: Use vllm:prefix_cache_queries instead.",
      base,
      st.prefixQueries,
    );
    w.counter(
      "vllm:gpu_prefix_cache_hits",
      "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead.",
      base,
      st.prefixHits,
    );
  }
  w.counter("vllm:prompt_tokens", "Number of prefill tokens processed.", base, st.promptTokens);
  w.counter("vllm:generation_tokens", "Number of generation tokens processed.", base, st.generationTokens);
  w.head("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  for (const reason of ["stop", "length", "abort"] as const) {
    w.sample("vllm:request_success_total", [...base, ["finished_reason", reason]], st.success[reason]);
  }
  w.histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", base, st.promptTokensHist);
  w.histogram(
    "vllm:request_generation_tokens",
    "Number of generation tokens processed.",
    base,
    st.generationTokensHist,
  );
  w.histogram(
    "vllm:iteration_tokens_total",
    "Histogram of number of tokens per engine_step.",
    base,
    st.iterationTokens,
  );
  if (v1) {
    w.histogram(
      "vllm:request_max_num_generation_tokens",
      "Histogram of maximum number of requested generation tokens.",
      base,
      st.maxGenerationTokensHist,
    );
  }
  w.histogram("vllm:request_params_n", "Histogram of the n request parameter.", base, st.nHist);
  w.histogram(
    "vllm:request_params_max_tokens",
    "Histogram of the max_tokens request parameter.",
    base,
    st.maxTokensHist,
  );
  w.histogram(
    "vllm:time_to_first_token_seconds",
    "Histogram of time to first token in seconds.",
    base,
    st.ttft,
  );
  w.histogram(
    "vllm:time_per_output_token_seconds",
    "Histogram of time per output token in seconds.",
    base,
    st.tpot,
  );
  if (v1) {
    w.histogram(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      base,
      st.itl,
    );
    w.histogram(
      "vllm:request_time_per_output_token_seconds",
      "Histogram of time_per_output_token_seconds per request.",
      base,
      st.requestTpot,
    );
  }
  w.histogram(
    "vllm:e2e_request_latency_seconds",
    "Histogram of e2e request latency in seconds.",
    base,
    st.e2e,
  );
  w.histogram(
    "vllm:request_queue_time_seconds",
    "Histogram of time spent in WAITING phase for request.",
    base,
    st.queue,
  );
  w.histogram(
    "vllm:request_inference_time_seconds",
    "Histogram of time spent in RUNNING phase for request.",
    base,
    st.inference,
  );
  w.histogram(
    "vllm:request_prefill_time_seconds",
    "Histogram of time spent in PREFILL phase for request.",
    base,
    st.prefill,
  );
  w.histogram(
    "vllm:request_decode_time_seconds",
    "Histogram of time spent in DECODE phase for request.",
    base,
    st.decode,
  );
  return w.lines.length === 0 ? "" : `${w.lines.join("\n")}\n`;
}
