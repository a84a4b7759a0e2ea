import assert from "node:assert/strict";
import { test } from "node:test";
import { startSimulator } from "../../src/sim/index.ts";

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Sample lines of one metric family: `name{labels} value` -> [labels, value]. */
function samples(text: string, name: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const line of text.split("\n")) {
    const m = /^([^{ ]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m !== null && m[1] === name) out.push([m[2] ?? "", Number(m[3])]);
  }
  return out;
}

test("/metrics: vLLM V1 names, types, labels and buckets, updated by traffic", async (t) => {
  const sim = await startSimulator({
    port: 0,
    model: "/models/x",
    servedModelName: ["qwen"],
    engineLabel: "0",
  });
  t.after(() => sim.close());
  const url = sim.urls[0]!;
  for (let i = 0; i < 3; i++) {
    const r = await post(`${url}/v1/completions`, {
      model: "qwen",
      prompt: "a b c d e f g h i j k l m n o p q r",
      max_tokens: 4,
      ignore_eos: true,
    });
    await r.json();
  }
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const L = '{model_name="qwen",engine="0"}';
  for (const [name, type] of [
    ["vllm:num_requests_running", "gauge"],
    ["vllm:num_requests_waiting", "gauge"],
    ["vllm:kv_cache_usage_perc", "gauge"],
    ["vllm:cache_config_info", "gauge"],
    ["vllm:prefix_cache_queries_total", "counter"],
    ["vllm:prefix_cache_hits_total", "counter"],
    ["vllm:prompt_tokens_total", "counter"],
    ["vllm:generation_tokens_total", "counter"],
    ["vllm:num_preemptions_total", "counter"],
    ["vllm:request_success_total", "counter"],
    ["vllm:time_to_first_token_seconds", "histogram"],
    ["vllm:time_per_output_token_seconds", "histogram"],
    ["vllm:e2e_request_latency_seconds", "histogram"],
    ["vllm:request_queue_time_seconds", "histogram"],
  ]) {
    assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `${name} is a ${type}`);
  }
  assert.deepEqual(samples(text, "vllm:num_requests_running"), [[L, 0]]);
  assert.deepEqual(samples(text, "vllm:prompt_tokens_total"), [[L, 54]]);
  assert.deepEqual(samples(text, "vllm:generation_tokens_total"), [[L, 12]]);
  assert.deepEqual(samples(text, "vllm:prefix_cache_queries_total"), [[L, 54]]);
  assert.deepEqual(
    samples(text, "vllm:prefix_cache_hits_total"),
    [[L, 32]],
    "2nd and 3rd request hit one 16-token block",
  );
  assert.deepEqual(samples(text, "vllm:request_success_total"), [
    ['{model_name="qwen",engine="0",finished_reason="stop"}', 0],
    ['{model_name="qwen",engine="0",finished_reason="length"}', 3],
    ['{model_name="qwen",engine="0",finished_reason="abort"}', 0],
  ]);
  const ttftLe = samples(text, "vllm:time_to_first_token_seconds_bucket").map(
    ([l]) => /le="([^"]+)"/.exec(l)![1],
  );
  assert.deepEqual(ttftLe, [
    "0.001",
    "0.005",
    "0.01",
    "0.02",
    "0.04",
    "0.06",
    "0.08",
    "0.1",
    "0.25",
    "0.5",
    "0.75",
    "1.0",
    "2.5",
    "5.0",
    "7.5",
    "10.0",
    "20.0",
    "40.0",
    "80.0",
    "160.0",
    "640.0",
    "2560.0",
    "+Inf",
  ]);
  assert.deepEqual(samples(text, "vllm:time_to_first_token_seconds_count"), [[L, 3]]);
  const cache = samples(text, "vllm:cache_config_info");
  assert.equal(cache.length, 1);
  assert.match(cache[0]![0], /block_size="16"/);
  assert.match(cache[0]![0], /num_gpu_blocks="65536"/);
  assert.match(cache[0]![0], /engine="0"/);
  assert.ok(!text.includes("vllm:gpu_cache_usage_perc"), "v1 hides the V0 name");
  assert.ok(!text.includes("vllm:lora_requests_info"), "no LoRA series without --enable-lora");
});

test("--metrics-compat both adds vllm:gpu_cache_usage_perc; v0 uses model_name only", async (t) => {
  const both = await startSimulator({ port: 0, model: "m", metricsCompat: "both" });
  t.after(() => both.close());
  const a = await (await fetch(`${both.urls[0]}/metrics`)).text();
  assert.ok(a.includes('vllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.0'));
  assert.ok(a.includes('vllm:gpu_cache_usage_perc{model_name="m",engine="0"} 0.0'));
  const v0 = await startSimulator({ port: 0, model: "m", metricsCompat: "v0" });
  t.after(() => v0.close());
  const b = await (await fetch(`${v0.urls[0]}/metrics`)).text();
  assert.ok(b.includes('vllm:gpu_cache_usage_perc{model_name="m"} 0.0'));
  assert.ok(!b.includes("vllm:kv_cache_usage_perc"));
});

test("runtime LoRA load/unload, /v1/models cards, lora_requests_info, /tokenize and /detokenize", async (t) => {
  const sim = await startSimulator({
    port: 0,
    model: "base",
    enableLora: true,
    maxLoras: 2,
    allowRuntimeLoraUpdating: true,
  });
  t.after(() => sim.close());
  const url = sim.urls[0]!;
  const load = await post(`${url}/v1/load_lora_adapter`, { lora_name: "sql", lora_path: "/a/sql" });
  assert.equal(load.status, 200);
  assert.equal(await load.text(), "Success: LoRA adapter 'sql' added successfully.");
  const again = await post(`${url}/v1/load_lora_adapter`, { lora_name: "sql", lora_path: "/a/sql" });
  assert.equal(again.status, 400);
  await again.body?.cancel();
  const models = (await (await fetch(`${url}/v1/models`)).json()) as {
    data: Array<{ id: string; parent: string | null }>;
  };
  assert.deepEqual(
    models.data.map((m) => [m.id, m.parent]),
    [
      ["base", null],
      ["sql", "base"],
    ],
  );
  const r = await post(`${url}/v1/completions`, {
    model: "sql",
    prompt: "x",
    max_tokens: 2,
    ignore_eos: true,
  });
  assert.equal(((await r.json()) as { model: string }).model, "sql");
  const m = await (await fetch(`${url}/metrics`)).text();
  assert.match(
    m,
    /vllm:lora_requests_info\{max_lora="2",waiting_lora_adapters="",running_lora_adapters="sql"\} \d\.\d+e\+09/,
  );
  const un = await post(`${url}/v1/unload_lora_adapter`, { lora_name: "sql" });
  assert.equal(await un.text(), "Success: LoRA adapter 'sql' removed successfully.");
  const gone = await post(`${url}/v1/completions`, { model: "sql", prompt: "x", max_tokens: 2 });
  assert.equal(gone.status, 404);
  await gone.body?.cancel();

  const tok = (await (
    await post(`${url}/tokenize`, { model: "base", prompt: "hello big world" })
  ).json()) as {
    count: number;
    tokens: number[];
    max_model_len: number;
  };
  assert.equal(tok.count, 3);
  assert.equal(tok.max_model_len, 4096);
  const detok = (await (await post(`${url}/detokenize`, { model: "base", tokens: tok.tokens })).json()) as {
    prompt: string;
  };
  assert.equal(detok.prompt, "hello big world");
});

test("runtime LoRA endpoints do not exist unless allowed (as in vLLM)", async (t) => {
  const sim = await startSimulator({ port: 0, model: "base", enableLora: true });
  t.after(() => sim.close());
  const r = await post(`${sim.urls[0]}/v1/load_lora_adapter`, { lora_name: "a", lora_path: "/a" });
  assert.equal(r.status, 404);
  await r.body?.cancel();
});
