/**
 * Per-engine metric mappings: which families to scan and how they become an endpoint's load.
 * Chosen by the endpoint label `inference.networking.k8s.io/engine-type` (default vLLM), as in the
 * Gateway API Inference Extension's metric extractor factories.
 */
import type { Endpoint } from "../datastore/endpoint.ts";
import type { EngineCounters } from "./endpoint-metrics.ts";
import type { PromSample, ScanResult } from "./prom-text-scanner.ts";

/** The endpoint label that names the engine. */
export const ENGINE_TYPE_LABEL = "inference.networking.k8s.io/engine-type";

/** What one scrape tells about an endpoint (the scraped part of EndpointMetrics). */
export interface ScrapedLoad {
  waiting: number;
  running: number;
  /** Fraction in [0, 1]. */
  kvCacheUsage: number;
  activeAdapters: Set<string>;
  waitingAdapters: Set<string>;
  maxActiveAdapters: number;
  blockSize?: number;
  numGpuBlocks?: number;
  counters?: EngineCounters;
}

/** One engine's mapping. `extract` throws an Error naming the missing family when a core metric is absent. */
export interface EngineMapping {
  readonly engine: string;
  /** Families to scan (passed to scanPrometheusText). */
  readonly families: readonly string[];
  /**
   * The exact sample names `extract` reads, for prometheus_client's `?name[]=` filter (vLLM serves
   * /metrics with prometheus_client's ASGI app): the page then holds only these samples (~1 KB
   * against ~30 KB with every histogram's buckets). Absent: the page is fetched whole.
   */
  readonly sampleNames?: readonly string[];
  extract(scan: ScanResult): ScrapedLoad;
}

type Pick = (samples: readonly PromSample[]) => PromSample[];
const all: Pick = (s) => [...s];
const where =
  (label: string, value: string): Pick =>
  (s) =>
    s.filter((x) => x.labels[label] === value);

/** Sum of finite values of the selected samples; undefined when none. */
function sumOf(scan: ScanResult, family: string, pick: Pick = all): number | undefined {
  const samples = pick(scan.families.get(family) ?? []).filter((s) => Number.isFinite(s.value));
  if (samples.length === 0) return undefined;
  let total = 0;
  for (const s of samples) total += s.value;
  return total;
}

/** Mean of finite values of the selected samples; undefined when none. */
function meanOf(scan: ScanResult, family: string, pick: Pick = all): number | undefined {
  const n = pick(scan.families.get(family) ?? []).filter((s) => Number.isFinite(s.value)).length;
  const total = sumOf(scan, family, pick);
  return total === undefined ? undefined : total / n;
}

function required(value: number | undefined, what: string): number {
  if (value === undefined) throw new Error(`metrics page lacks ${what}`);
  return value;
}

function clampFraction(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

function adapterSet(list: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const a of (list ?? "").split(",")) {
    const t = a.trim();
    if (t !== "") out.add(t);
  }
  return out;
}

function base(waiting: number, running: number, kv: number): ScrapedLoad {
  return {
    waiting,
    running,
    kvCacheUsage: clampFraction(kv),
    activeAdapters: new Set(),
    waitingAdapters: new Set(),
    maxActiveAdapters: 0,
  };
}

/**
 * A mapping's families by type, and the sample names prometheus_client writes for them (a counter
 * `x` as `x_total`; a histogram's `_sum` and `_count`, never its buckets).
 */
function familiesOf(types: {
  gauges: readonly string[];
  counters: readonly string[];
  histograms: readonly string[];
}): { families: readonly string[]; sampleNames: readonly string[] } {
  return {
    families: [...types.gauges, ...types.counters, ...types.histograms],
    sampleNames: [
      ...types.gauges,
      ...types.counters.map((c) => `${c}_total`),
      ...types.histograms.flatMap((h) => [`${h}_sum`, `${h}_count`]),
    ],
  };
}

const vllm: EngineMapping = {
  engine: "vllm",
  ...familiesOf({
    gauges: [
      "vllm:num_requests_waiting",
      "vllm:num_requests_running",
      "vllm:kv_cache_usage_perc",
      "vllm:gpu_cache_usage_perc",
      "vllm:lora_requests_info",
      "vllm:cache_config_info",
    ],
    counters: ["vllm:prompt_tokens", "vllm:prefix_cache_hits"],
    histograms: [
      "vllm:request_prefill_time_seconds",
      "vllm:time_per_output_token_seconds",
      "vllm:inter_token_latency_seconds",
      "vllm:request_generation_tokens",
    ],
  }),
  extract(scan) {
    const kv =
      meanOf(scan, "vllm:kv_cache_usage_perc") ??
      required(
        meanOf(scan, "vllm:gpu_cache_usage_perc"),
        "vllm:kv_cache_usage_perc (or vllm:gpu_cache_usage_perc)",
      );
    const load = base(
      required(sumOf(scan, "vllm:num_requests_waiting"), "vllm:num_requests_waiting"),
      required(sumOf(scan, "vllm:num_requests_running"), "vllm:num_requests_running"),
      kv,
    );
    // lora_requests_info: the gauge value is a timestamp; the newest series wins.
    let newest: PromSample | undefined;
    for (const s of scan.families.get("vllm:lora_requests_info") ?? []) {
      if (newest === undefined || s.value > newest.value) newest = s;
    }
    if (newest !== undefined) {
      load.activeAdapters = adapterSet(newest.labels["running_lora_adapters"]);
      load.waitingAdapters = adapterSet(newest.labels["waiting_lora_adapters"]);
      load.maxActiveAdapters = positiveInt(newest.labels["max_lora"]) ?? 0;
    }
    const info = scan.families.get("vllm:cache_config_info")?.[0];
    if (info !== undefined) {
      const bs = positiveInt(info.labels["block_size"]);
      const nb = positiveInt(info.labels["num_gpu_blocks"]);
      if (bs !== undefined) load.blockSize = bs;
      if (nb !== undefined) load.numGpuBlocks = nb;
    }
    const counters = vllmCounters(scan);
    if (counters !== undefined) load.counters = counters;
    return load;
  },
};

/** vLLM's cost-model counters; undefined unless prompt tokens and prefill time are both reported. */
function vllmCounters(scan: ScanResult): EngineCounters | undefined {
  const named =
    (suffix: string): Pick =>
    (s) =>
      s.filter((x) => x.name.endsWith(suffix));
  const prompt = sumOf(scan, "vllm:prompt_tokens", named("_total"));
  const prefill = sumOf(scan, "vllm:request_prefill_time_seconds", named("_sum"));
  const prefilled = sumOf(scan, "vllm:request_prefill_time_seconds", named("_count"));
  if (prompt === undefined || prefill === undefined || prefilled === undefined) return undefined;
  const hits = sumOf(scan, "vllm:prefix_cache_hits", named("_total")) ?? 0;
  const tpotFamily = scan.families.get("vllm:time_per_output_token_seconds")?.length
    ? "vllm:time_per_output_token_seconds"
    : "vllm:inter_token_latency_seconds";
  return {
    prefillSeconds: prefill,
    prefilledRequests: prefilled,
    computedPromptTokens: Math.max(0, prompt - hits),
    promptTokens: prompt,
    tpotSeconds: sumOf(scan, tpotFamily, named("_sum")) ?? 0,
    tpotCount: sumOf(scan, tpotFamily, named("_count")) ?? 0,
    generationTokens: sumOf(scan, "vllm:request_generation_tokens", named("_sum")) ?? 0,
    finishedRequests: sumOf(scan, "vllm:request_generation_tokens", named("_count")) ?? 0,
  };
}

const sglang: EngineMapping = {
  engine: "sglang",
  families: [
    "sglang:num_queue_reqs",
    "sglang:num_running_reqs",
    "sglang:token_usage",
    "sglang:cache_config_info",
  ],
  extract(scan) {
    const load = base(
      required(sumOf(scan, "sglang:num_queue_reqs"), "sglang:num_queue_reqs"),
      required(sumOf(scan, "sglang:num_running_reqs"), "sglang:num_running_reqs"),
      required(meanOf(scan, "sglang:token_usage"), "sglang:token_usage"),
    );
    const info = scan.families.get("sglang:cache_config_info")?.[0];
    if (info !== undefined) {
      const bs = positiveInt(info.labels["page_size"]);
      const nb = positiveInt(info.labels["num_pages"]);
      if (bs !== undefined) load.blockSize = bs;
      if (nb !== undefined) load.numGpuBlocks = nb;
    }
    return load;
  },
};

const trtllmServe: EngineMapping = {
  engine: "trtllm-serve",
  families: [
    "trtllm_num_requests_waiting",
    "trtllm_num_requests_running",
    "trtllm_kv_cache_utilization",
    "trtllm_kv_cache_tokens_per_block",
    "trtllm_kv_cache_max_blocks",
  ],
  extract(scan) {
    const load = base(
      required(sumOf(scan, "trtllm_num_requests_waiting"), "trtllm_num_requests_waiting"),
      required(sumOf(scan, "trtllm_num_requests_running"), "trtllm_num_requests_running"),
      required(meanOf(scan, "trtllm_kv_cache_utilization"), "trtllm_kv_cache_utilization"),
    );
    const bs = sumOf(scan, "trtllm_kv_cache_tokens_per_block");
    const nb = sumOf(scan, "trtllm_kv_cache_max_blocks");
    if (bs !== undefined && bs > 0) load.blockSize = bs;
    if (nb !== undefined && nb > 0) load.numGpuBlocks = nb;
    return load;
  },
};

const REQ = "nv_trt_llm_request_metrics";
const KVB = "nv_trt_llm_kv_cache_block_metrics";
const triton: EngineMapping = {
  engine: "triton",
  families: [REQ, KVB],
  extract(scan) {
    const load = base(
      required(sumOf(scan, REQ, where("request_type", "waiting")), `${REQ}{request_type="waiting"}`),
      required(sumOf(scan, REQ, where("request_type", "scheduled")), `${REQ}{request_type="scheduled"}`),
      required(
        meanOf(scan, KVB, where("kv_cache_block_type", "fraction")),
        `${KVB}{kv_cache_block_type="fraction"}`,
      ),
    );
    const bs = meanOf(scan, KVB, where("kv_cache_block_type", "tokens_per"));
    const nb = sumOf(scan, KVB, where("kv_cache_block_type", "max"));
    if (bs !== undefined && bs > 0) load.blockSize = bs;
    if (nb !== undefined && nb > 0) load.numGpuBlocks = nb;
    return load;
  },
};

/** Every known mapping by engine-type label value. */
export const ENGINE_MAPPINGS: ReadonlyMap<string, EngineMapping> = new Map(
  [vllm, sglang, trtllmServe, triton].map((m) => [m.engine, m]),
);

/** The mapping for an endpoint's engine-type label (absent = vLLM); throws on an unknown engine. */
export function mappingForEndpoint(endpoint: Endpoint): EngineMapping {
  const engine = endpoint.labels[ENGINE_TYPE_LABEL] ?? "vllm";
  const mapping = ENGINE_MAPPINGS.get(engine);
  if (mapping === undefined) {
    throw new Error(
      `endpoint ${endpoint.id}: unknown ${ENGINE_TYPE_LABEL} "${engine}" (known: ${[...ENGINE_MAPPINGS.keys()].join(", ")})`,
    );
  }
  return mapping;
}
