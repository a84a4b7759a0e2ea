import assert from "node:assert/strict";
import { test } from "node:test";
import type { Endpoint } from "../../src/datastore/endpoint.ts";
import { ENGINE_TYPE_LABEL, mappingForEndpoint } from "../../src/modelserver/engine-mappings.ts";
import { scanPrometheusText } from "../../src/modelserver/prom-text-scanner.ts";

const endpoint = (engine?: string): Endpoint => ({
  id: "10.0.0.1:8000",
  host: "10.0.0.1",
  port: 8000,
  labels: engine === undefined ? {} : ({ [ENGINE_TYPE_LABEL]: engine } as Record<string, string>),
});

function extract(engine: string | undefined, page: string) {
  const m = mappingForEndpoint(endpoint(engine));
  return m.extract(scanPrometheusText(page, m.families));
}

const VLLM_PAGE = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 7.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
# TYPE vllm:lora_requests_info gauge
vllm:lora_requests_info{max_lora="4",running_lora_adapters="old",waiting_lora_adapters=""} 1.70e9
vllm:lora_requests_info{max_lora="4",running_lora_adapters="a1,a2",waiting_lora_adapters="a3"} 1.71e9
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",num_gpu_blocks="2048"} 1.0
`;

test("vLLM is the default engine: queue, running, KV, newest LoRA series, cache geometry", () => {
  const load = extract(undefined, VLLM_PAGE);
  assert.equal(load.waiting, 3);
  assert.equal(load.running, 7);
  assert.equal(load.kvCacheUsage, 0.25);
  assert.deepEqual([...load.activeAdapters], ["a1", "a2"]);
  assert.deepEqual([...load.waitingAdapters], ["a3"]);
  assert.equal(load.maxActiveAdapters, 4);
  assert.equal(load.blockSize, 16);
  assert.equal(load.numGpuBlocks, 2048);
});

test("vLLM before #1905: vllm:gpu_cache_usage_perc is read when kv_cache_usage_perc is absent", () => {
  const page = VLLM_PAGE.replace(/vllm:kv_cache_usage_perc/g, "vllm:gpu_cache_usage_perc").replace(
    "0.25",
    "0.5",
  );
  assert.equal(extract("vllm", page).kvCacheUsage, 0.5);
});

test("vLLM page without LoRA info: no adapters, max 0", () => {
  const page = VLLM_PAGE.split("\n")
    .filter((l) => !l.includes("lora"))
    .join("\n");
  const load = extract("vllm", page);
  assert.equal(load.activeAdapters.size, 0);
  assert.equal(load.maxActiveAdapters, 0);
});

test("vLLM's cost-model counters: prefill time, prompt tokens and computed ones (prompt − prefix hits), TPOT, output per request", () => {
  assert.equal(
    extract("vllm", VLLM_PAGE).counters,
    undefined,
    "absent without prompt tokens and prefill time",
  );
  const page = `${VLLM_PAGE}# TYPE vllm:prompt_tokens counter
vllm:prompt_tokens_total{engine="0",model_name="m"} 5000.0
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 3000.0
# TYPE vllm:request_prefill_time_seconds histogram
vllm:request_prefill_time_seconds_bucket{engine="0",le="+Inf",model_name="m"} 10.0
vllm:request_prefill_time_seconds_sum{engine="0",model_name="m"} 0.04
vllm:request_prefill_time_seconds_count{engine="0",model_name="m"} 10.0
# TYPE vllm:inter_token_latency_seconds histogram
vllm:inter_token_latency_seconds_sum{engine="0",model_name="m"} 2.5
vllm:inter_token_latency_seconds_count{engine="0",model_name="m"} 500.0
# TYPE vllm:request_generation_tokens histogram
vllm:request_generation_tokens_bucket{engine="0",le="+Inf",model_name="m"} 8.0
vllm:request_generation_tokens_sum{engine="0",model_name="m"} 480.0
vllm:request_generation_tokens_count{engine="0",model_name="m"} 8.0
`;
  assert.deepEqual(extract("vllm", page).counters, {
    prefillSeconds: 0.04,
    prefilledRequests: 10,
    computedPromptTokens: 2000,
    promptTokens: 5000,
    tpotSeconds: 2.5,
    tpotCount: 500,
    generationTokens: 480,
    finishedRequests: 8,
  });
});

test("a missing core metric is an error naming it", () => {
  const page = VLLM_PAGE.split("\n")
    .filter((l) => !l.includes("num_requests_waiting"))
    .join("\n");
  assert.throws(() => extract("vllm", page), /vllm:num_requests_waiting/);
  assert.throws(() => extract("vllm", ""), /metrics page lacks/);
});

test("SGLang", () => {
  const load = extract(
    "sglang",
    `sglang:num_queue_reqs{model_name="m"} 2
sglang:num_running_reqs{model_name="m"} 9
sglang:token_usage{model_name="m"} 0.4
sglang:cache_config_info{page_size="1",num_pages="50000"} 1
`,
  );
  assert.deepEqual(
    [load.waiting, load.running, load.kvCacheUsage, load.blockSize, load.numGpuBlocks],
    [2, 9, 0.4, 1, 50000],
  );
});

test("trtllm-serve", () => {
  const load = extract(
    "trtllm-serve",
    `trtllm_num_requests_waiting 1
trtllm_num_requests_running 4
trtllm_kv_cache_utilization 0.9
trtllm_kv_cache_tokens_per_block 32
trtllm_kv_cache_max_blocks 1000
`,
  );
  assert.deepEqual(
    [load.waiting, load.running, load.kvCacheUsage, load.blockSize, load.numGpuBlocks],
    [1, 4, 0.9, 32, 1000],
  );
});

test("Triton (TensorRT-LLM backend) selects series by label", () => {
  const load = extract(
    "triton",
    `nv_trt_llm_request_metrics{model="m",request_type="waiting",version="1"} 5
nv_trt_llm_request_metrics{model="m",request_type="scheduled",version="1"} 6
nv_trt_llm_request_metrics{model="m",request_type="context",version="1"} 99
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",model="m"} 0.3
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="tokens_per",model="m"} 64
nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="m"} 500
`,
  );
  assert.deepEqual(
    [load.waiting, load.running, load.kvCacheUsage, load.blockSize, load.numGpuBlocks],
    [5, 6, 0.3, 64, 500],
  );
});

test("an unknown engine-type label is a clear error", () => {
  assert.throws(
    () => mappingForEndpoint(endpoint("tgi")),
    /unknown inference.networking.k8s.io\/engine-type "tgi"/,
  );
});

test("KV utilisation is clamped to [0, 1]", () => {
  assert.equal(extract("vllm", VLLM_PAGE.replace("0.25", "1.7")).kvCacheUsage, 1);
});
