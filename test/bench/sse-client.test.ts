import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { Pool } from "undici";
import { type StreamRequest, sendStreamingRequest } from "../../src/bench/sse-client.ts";
import { startFakeServer } from "./fake-sse-server.ts";

const req = (over: Partial<StreamRequest> = {}): StreamRequest => ({
  path: "/v1/completions",
  body: Buffer.from(JSON.stringify({ model: "m", prompt: "a b c", max_tokens: 5, stream: true })),
  headers: { "content-type": "application/json" },
  promptLen: 3,
  classIndex: 0,
  collectText: false,
  timeoutMs: 30_000,
  ...over,
});

test("a streamed completion gives TTFT, one ITL per later chunk and usage token counts", async () => {
  const s = await startFakeServer({ ttftMs: 30, itlMs: 5 });
  const pool = new Pool(s.url);
  after(async () => {
    await pool.close();
    await s.close();
  });
  const out = await sendStreamingRequest(pool, s.url, req({ collectText: true }));
  assert.equal(out.success, true);
  assert.equal(out.status, 200);
  assert.equal(out.chunks, 5);
  assert.equal(out.itl.length, 4);
  assert.equal(out.outputTokens, 5);
  assert.equal(out.promptLen, 3);
  assert.equal(out.generatedText, "w0 w1 w2 w3 w4 ");
  assert.ok(out.ttft >= 0.025, `ttft ${out.ttft}`);
  const sum = out.ttft + out.itl.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - out.latency) < 1e-9);
});

test("events split across TCP writes at any byte, CRLF framing and comments are handled", async () => {
  const events =
    ": keep-alive\r\n\r\n" +
    'data: {"choices":[{"text":"x"}]}\r\n\r\n' +
    'data: {"choices": [ {"text":"y"}]}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}\n\n' +
    "data: [DONE]\n\n";
  const server = createServer(async (_q, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let i = 0; i < events.length; i += 3) {
      res.write(events.slice(i, i + 3));
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new Pool(url);
  after(async () => {
    await pool.close();
    server.closeAllConnections();
    server.close();
  });
  const out = await sendStreamingRequest(pool, url, req({ collectText: true }));
  assert.equal(out.success, true);
  assert.equal(out.chunks, 2);
  assert.equal(out.generatedText, "xy");
  assert.equal(out.outputTokens, 2);
  assert.equal(out.promptLen, 7);
});

test("HTTP errors, empty streams and refused connections fail with their status and reason", async () => {
  const s = await startFakeServer();
  const pool = new Pool(s.url);
  after(async () => {
    await pool.close();
    await s.close();
  });
  const e = await sendStreamingRequest(pool, s.url, req({ headers: { "x-return-error": "429" } }));
  assert.equal(e.success, false);
  assert.equal(e.status, 429);
  assert.match(e.error, /^HTTP 429 Too Many Requests: .*injected/);
  const empty = await sendStreamingRequest(
    pool,
    s.url,
    req({ body: Buffer.from(JSON.stringify({ model: "m", prompt: "a", max_tokens: 0 })) }),
  );
  assert.equal(empty.success, false);
  assert.equal(empty.status, 200);
  assert.match(empty.error, /Never received a valid chunk/);
  const dead = new Pool("http://127.0.0.1:1");
  const refused = await sendStreamingRequest(dead, "http://127.0.0.1:1", req());
  await dead.close();
  assert.equal(refused.success, false);
  assert.equal(refused.status, 0);
  assert.notEqual(refused.error, "");
});
