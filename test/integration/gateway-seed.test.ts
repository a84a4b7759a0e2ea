/**
 * `igw serve -f examples/seed/` (the seed's manifests, unchanged) in front of three `igw sim`
 * replicas serving `qwen` with the seed's LoRA adapters travel-helper-v1/v2. The seed's Deployment
 * serves its base model as `/model/qwen` while its InferenceModel targets `qwen`; these sims are
 * started with `--served-model-name qwen` so the InferenceModel matches (the last test shows the
 * warning a user gets with `/model/qwen`).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { request } from "undici";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { SEED_LORA_ARGS, type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

/** Three replicas serving qwen with the seed's adapters. */
const THREE_SIMS = ["--replicas", "3", "--model", "qwen", "--profile", "a10-7b", ...SEED_LORA_ARGS];

function endpointsFile(urls: readonly string[]): ReturnType<typeof tempFiles> {
  const lines = urls.map((u) => `  - address: ${new URL(u).host}\n    labels: {app: qwen}\n`);
  return tempFiles({ "endpoints.yaml": `endpoints:\n${lines.join("")}` });
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe("igw serve with the seed's manifests in front of three igw sim replicas", () => {
  let sims: SimProcess;
  let gw: GatewayProcess;
  let files: ReturnType<typeof tempFiles>;

  before(async () => {
    sims = await startSimProcess(THREE_SIMS);
    files = endpointsFile(sims.urls);
    gw = await startGatewayProcess(["-f", "examples/seed/", "--endpoints", files.path("endpoints.yaml")]);
  });
  after(async () => {
    await gw?.stop();
    await sims?.stop();
    files?.cleanup();
  });

  test("qwen and travel-helper answer, non-streaming, with the client's model name", async () => {
    for (const model of ["qwen", "travel-helper"]) {
      const r = await post(gw.url, { model, prompt: "Plan a trip to Kyoto", max_tokens: 5 });
      assert.equal(r.status, 200, r.text);
      const body = JSON.parse(r.text) as {
        model: string;
        choices: { text: string }[];
        usage: { completion_tokens: number };
      };
      assert.equal(body.model, model);
      assert.equal(body.usage.completion_tokens, 5);
    }
  });

  test("travel-helper reaches the engine as the adapter travel-helper-v1 (the engine refuses the client name)", async () => {
    const direct = await post(sims.urls[0]!, { model: "travel-helper", prompt: "hi", max_tokens: 2 });
    assert.equal(direct.status, 404);
    const res = await request(`${gw.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "travel-helper", prompt: "Plan a trip", max_tokens: 40, stream: true }),
    });
    const it = res.body[Symbol.asyncIterator]();
    const first = String((await it.next()).value);
    assert.match(first, /"model":"travel-helper"/);
    const served = String(res.headers["x-gateway-destination-endpoint-served"]);
    const state = (await (await request(`http://${served}/admin/state`)).body.json()) as {
      running: { adapter: string | null }[];
      waiting: { adapter: string | null }[];
    };
    assert.ok(
      [...state.running, ...state.waiting].some((s) => s.adapter === "travel-helper-v1"),
      JSON.stringify(state),
    );
    let rest = "";
    for (let n = await it.next(); !n.done; n = await it.next()) rest += String(n.value);
    assert.doesNotMatch(first + rest, /travel-helper-v1/);
    assert.match(rest, /data: \[DONE\]/);
  });

  test("streamed tokens arrive one event at a time, each rewritten back to the client's name", async () => {
    const res = await request(`${gw.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "travel-helper", prompt: "Tell me", max_tokens: 8, stream: true }),
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    let reads = 0;
    let text = "";
    for await (const chunk of res.body) {
      reads++;
      text += String(chunk);
    }
    const events = text.split("\n\n").filter((e) => e.startsWith("data: {"));
    assert.equal(events.length, 8, text);
    for (const e of events)
      assert.equal((JSON.parse(e.slice(6)) as { model: string }).model, "travel-helper");
    assert.ok(reads >= 2, `the stream arrived in ${reads} read(s): buffered instead of passed through`);
  });

  test("the official openai client works through the gateway", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["qwen", "travel-helper"],
    );
    const chat = await client.chat.completions.create({
      model: "travel-helper",
      messages: [{ role: "user", content: "Where should I go in spring?" }],
      max_tokens: 4,
    });
    assert.equal(chat.model, "travel-helper");
    assert.equal(chat.choices.length, 1);
    const stream = await client.chat.completions.create({
      model: "qwen",
      messages: [{ role: "user", content: "Count to three" }],
      max_tokens: 6,
      stream: true,
    });
    let deltas = 0;
    for await (const chunk of stream) {
      assert.equal(chunk.model, "qwen");
      if (chunk.choices[0]?.delta.content) deltas++;
    }
    assert.equal(deltas, 6);
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: "x" }] }),
      (e: unknown) =>
        e instanceof OpenAI.NotFoundError && (e.error as { code?: string })?.code === "model_not_found",
    );
  });

  test("unknown model 404, malformed JSON 400, oversize body 413, each as OpenAI error JSON", async () => {
    const cases: [unknown, number, string][] = [
      [{ model: "nope", prompt: "x" }, 404, "model_not_found"],
      ['{"model": "qwen", "prompt": ', 400, "invalid_json"],
      [JSON.stringify({ model: "qwen", prompt: "x".repeat(17 * 1024 * 1024) }), 413, "payload_too_large"],
    ];
    for (const [body, status, code] of cases) {
      const r = await post(gw.url, body);
      assert.equal(r.status, status, r.text);
      const json = JSON.parse(r.text) as {
        error: { message: string; type: string; param: unknown; code: string };
      };
      assert.equal(json.error.code, code);
      assert.equal(typeof json.error.message, "string");
      assert.equal(typeof json.error.type, "string");
      assert.ok("param" in json.error);
    }
    assert.equal((await post(gw.url, { model: "qwen", prompt: "still here", max_tokens: 1 })).status, 200);
  });

  test("a spoofed x-gateway-destination-endpoint has no effect", async () => {
    const target = new URL(sims.urls[0]!).host;
    const servedBy = new Set<string>();
    // Distinct prompts: the seed pool's scorer profile sends a repeated prompt back to the
    // endpoint holding its prefix, which is not what this test is about.
    for (let i = 0; i < 12; i++) {
      const r = await post(
        gw.url,
        { model: "qwen", prompt: `a${i}`, max_tokens: 1 },
        { "x-gateway-destination-endpoint": "127.0.0.1:1" },
      );
      assert.equal(r.status, 200, r.text);
      servedBy.add(String(r.headers["x-gateway-destination-endpoint-served"]));
      const r2 = await post(
        gw.url,
        { model: "qwen", prompt: `b${i}`, max_tokens: 1 },
        { "x-gateway-destination-endpoint": target },
      );
      servedBy.add(String(r2.headers["x-gateway-destination-endpoint-served"]));
    }
    assert.ok(servedBy.size > 1, `every request went to ${[...servedBy]}`);
    assert.ok(!servedBy.has("127.0.0.1:1"));
  });
});

test("killing one replica loses no request that had not started streaming", async () => {
  const sims = await startSimProcess(THREE_SIMS);
  const files = endpointsFile(sims.urls);
  let gw: GatewayProcess | undefined;
  try {
    gw = await startGatewayProcess(["-f", "examples/seed/", "--endpoints", files.path("endpoints.yaml")]);
    const url = gw.url;
    const requests = Array.from({ length: 30 }, (_, i) =>
      post(url, { model: i % 2 ? "qwen" : "travel-helper", prompt: `request ${i}`, max_tokens: 12 }),
    );
    // Kill replica 0 while requests are in flight on it (non-streaming: nothing reached the client yet).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = (await (await request(`${sims.urls[0]}/admin/state`)).body.json()) as {
        running: unknown[];
      };
      if (state.running.length > 0) break;
      assert.ok(Date.now() < deadline, "no request reached replica 0");
      await new Promise((r) => setTimeout(r, 5));
    }
    const killed = await request(`${sims.urls[0]}/admin/kill`, { method: "POST" });
    await killed.body.dump();
    const after = Array.from({ length: 15 }, (_, i) =>
      post(url, { model: "qwen", prompt: `after ${i}`, max_tokens: 2 }),
    );
    const results = await Promise.all([...requests, ...after]);
    assert.deepEqual(
      results.map((r) => r.status),
      results.map(() => 200),
      results.find((r) => r.status !== 200)?.text,
    );
    const dead = new URL(sims.urls[0]!).host;
    assert.ok(results.slice(30).every((r) => r.headers["x-gateway-destination-endpoint-served"] !== dead));
  } finally {
    await gw?.stop();
    await sims.stop();
    files.cleanup();
  }
});

test("a target model that no server serves is reported clearly, once", async () => {
  const sims = await startSimProcess(["--replicas", "1", "--model", "/model/qwen", ...SEED_LORA_ARGS]);
  const files = endpointsFile(sims.urls);
  let gw: GatewayProcess | undefined;
  try {
    gw = await startGatewayProcess(["-f", "examples/seed/", "--endpoints", files.path("endpoints.yaml")]);
    const deadline = Date.now() + 30_000;
    while (!gw.stderr().includes("no endpoint of the pool serves") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const warnings = gw
      .stderr()
      .split("\n")
      .filter((l) => l.includes("no endpoint of the pool serves"));
    assert.equal(warnings.length, 1, gw.stderr());
    assert.match(
      warnings[0]!,
      /sends model \\"qwen\\" to pool default\/qwen-pool.*they serve: \/model\/qwen/,
    );
    const r = await post(gw.url, { model: "qwen", prompt: "x", max_tokens: 1 });
    assert.equal(
      r.status,
      404,
      "the engine refuses the unserved name; the gateway passes its answer through",
    );
  } finally {
    await gw?.stop();
    await sims.stop();
    files.cleanup();
  }
});
