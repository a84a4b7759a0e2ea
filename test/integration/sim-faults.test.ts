import assert from "node:assert/strict";
import { test } from "node:test";
import { startSimulator } from "../../src/sim/index.ts";

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

test("X-Return-Error forces an error in vLLM's shape; --failure-rate injects the configured types", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m" });
  t.after(() => sim.close());
  const r = await post(
    `${sim.urls[0]}/v1/completions`,
    { model: "m", prompt: "x" },
    { "x-return-error": "429" },
  );
  assert.equal(r.status, 429);
  const body = (await r.json()) as { error: { type: string; code: number } };
  assert.equal(body.error.type, "RateLimitError");
  assert.equal(body.error.code, 429);
  const named = await post(
    `${sim.urls[0]}/v1/completions`,
    { model: "m", prompt: "x" },
    { "x-return-error": "server_error" },
  );
  assert.equal(named.status, 503);
  await named.body?.cancel();

  const failing = await startSimulator({
    port: 0,
    model: "m",
    failureRate: 1,
    failureTypes: ["500", "invalid_api_key"],
  });
  t.after(() => failing.close());
  const statuses = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const f = await post(`${failing.urls[0]}/v1/chat/completions`, {
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
    statuses.add(f.status);
    await f.body?.cancel();
  }
  assert.deepEqual([...statuses].sort(), [401, 500]);
});

test("slow start: /health and requests answer 503 until the startup delay has passed", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m", startupDelayMs: 600_000 });
  t.after(() => sim.close());
  const h = await fetch(`${sim.urls[0]}/health`);
  assert.equal(h.status, 503);
  await h.body?.cancel();
  const r = await post(`${sim.urls[0]}/v1/completions`, { model: "m", prompt: "x" });
  assert.equal(r.status, 503);
  await r.body?.cancel();
  const ok = await startSimulator({ port: 0, model: "m" });
  t.after(() => ok.close());
  const h2 = await fetch(`${ok.urls[0]}/health`);
  assert.equal(h2.status, 200);
  assert.equal(await h2.text(), "");
});

test("--dead-after N: N requests succeed, then the replica resets connections and stops listening", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m", replicas: 2, deadAfter: 2 });
  t.after(() => sim.close());
  const url = sim.urls[0]!;
  for (let i = 0; i < 2; i++) {
    const r = await post(`${url}/v1/completions`, { model: "m", prompt: "x", max_tokens: 2 });
    assert.equal(r.status, 200);
    await r.json();
  }
  await assert.rejects(post(`${url}/v1/completions`, { model: "m", prompt: "x", max_tokens: 2 }));
  await assert.rejects(fetch(`${url}/health`), "nothing listens any more");
  const other = await fetch(`${sim.urls[1]}/health`);
  assert.equal(other.status, 200, "the other replica lives on");
});

test("POST /admin/kill kills the replica: streams in flight are cut, new connections refused", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m", profile: "a10-7b", timeScale: 1 });
  t.after(() => sim.close());
  const url = sim.urls[0]!;
  const stream = await post(`${url}/v1/completions`, {
    model: "m",
    prompt: "x y",
    max_tokens: 2000,
    ignore_eos: true,
    stream: true,
  });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  await reader.read(); // first token arrived
  const k = await fetch(`${url}/admin/kill`, { method: "POST" });
  assert.equal(k.status, 200);
  await k.text();
  await assert.rejects(
    (async () => {
      for (;;) {
        const { done } = await reader.read();
        if (done) throw new Error("stream ended cleanly, expected a reset");
      }
    })(),
  );
  await assert.rejects(fetch(`${url}/health`));
});

test("mid-stream error: an error event then [DONE], after some tokens", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m", midStreamErrorProb: 1 });
  t.after(() => sim.close());
  const r = await post(`${sim.urls[0]}/v1/completions`, {
    model: "m",
    prompt: "x",
    max_tokens: 10,
    ignore_eos: true,
    stream: true,
  });
  assert.equal(r.status, 200);
  const text = await r.text();
  const frames = text.split("\n\n").filter((f) => f.length > 0);
  assert.equal(frames.at(-1), "data: [DONE]");
  const err = JSON.parse(frames.at(-2)!.slice(6)) as { error: { code: number; type: string } };
  assert.equal(err.error.code, 500);
  assert.equal(err.error.type, "InternalServerError");
  const tokens = frames.slice(0, -2);
  assert.equal(tokens.length, 5, "the error comes halfway through the 10 tokens");
});

test("--max-waiting-queue-length answers 429 when the waiting queue is full", async (t) => {
  const sim = await startSimulator({
    port: 0,
    model: "m",
    profile: "a10-7b",
    maxNumSeqs: 1,
    maxWaitingQueueLength: 1,
  });
  t.after(() => sim.close());
  const url = `${sim.urls[0]}/v1/completions`;
  const long = { model: "m", prompt: "x", max_tokens: 3000, ignore_eos: true, stream: true };
  const first = await post(url, long);
  await first.body!.getReader().read(); // running
  const second = await post(url, long); // waits: max-num-seqs 1
  assert.equal(second.status, 200);
  const third = await post(url, long);
  assert.equal(third.status, 429);
  await third.body?.cancel();
  await first.body?.cancel().catch(() => undefined);
  await second.body?.cancel();
});

test("POST /admin/config changes one replica's faults at run time; other options are refused", async (t) => {
  const sim = await startSimulator({ port: 0, model: "m", replicas: 2 });
  t.after(() => sim.close());
  const [a, b] = sim.urls as [string, string];
  const set = await post(`${a}/admin/config`, { "failure-rate": 1, failure_types: ["503"] });
  assert.equal(set.status, 200);
  assert.equal(((await set.json()) as Record<string, unknown>)["failure-rate"], 1);
  const failing = await post(`${a}/v1/completions`, { model: "m", prompt: "x", max_tokens: 1 });
  assert.equal(failing.status, 503);
  await failing.body?.cancel();
  const other = await post(`${b}/v1/completions`, { model: "m", prompt: "x", max_tokens: 1 });
  assert.equal(other.status, 200, "the other replica is unchanged");
  await other.json();
  const refused = await post(`${a}/admin/config`, { "max-num-seqs": 2 });
  assert.equal(refused.status, 400);
  assert.match(
    ((await refused.json()) as { error: { message: string } }).error.message,
    /not changeable at run time/,
  );
  const bad = await post(`${a}/admin/config`, { "stall-prob": 2 });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const now = (await (await fetch(`${a}/admin/config`)).json()) as Record<string, unknown>;
  assert.deepEqual(now["failure-types"], ["503"]);
  assert.equal(now["stall-prob"], 0, "a rejected update changes nothing");
});
