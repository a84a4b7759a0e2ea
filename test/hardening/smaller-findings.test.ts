/**
 * Issue 13, finding 8 (the smaller ones, except ready_pods): 413 from a declared Content-Length
 * before any body byte is read; a stalled body answered 408 after the configurable body timeout;
 * a server dying mid-stream ends the client's stream with an SSE error event; mid-stream failures
 * (a break, or an engine's error event in a 200 stream) counted in
 * `inference_model_request_error_total`; echoed model names truncated; unknown model names never
 * become metric labels.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { type FakeHandler, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { errorCode, rawRequest } from "./raw-http.ts";

const POOL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec: {selector: {app: t}, targetPortNumber: 8000}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;
const WITH_MODEL = `${POOL}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec: {modelName: chat, criticality: Critical, poolRef: {name: pool}}
`;

/** A gateway (options applied) in front of one fake engine answering with `handler`. */
async function withGateway(
  manifests: string,
  handler: FakeHandler,
  options: Parameters<typeof startInProcessGateway>[3],
  body: (port: number, url: string) => Promise<void>,
): Promise<void> {
  const upstream = await startFakeUpstream(handler);
  const gateway = await startInProcessGateway(manifests, [upstream.address], { app: "t" }, options);
  try {
    await body(Number(new URL(gateway.gw.url).port), gateway.gw.url);
  } finally {
    await gateway.close();
    await upstream.close();
  }
}

const never: FakeHandler = () => assert.fail("nothing should reach the engine");
const head = (length: number) =>
  `POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}`;

test("a declared Content-Length over the limit is 413 before any body byte is sent", async () => {
  await withGateway(WITH_MODEL, never, {}, async (port) => {
    const t0 = performance.now();
    const r = await rawRequest(port, head(200_000_000));
    assert.equal(r.status, 413);
    assert.equal(errorCode(r), "payload_too_large");
    assert.equal(r.headers["connection"], "close");
    assert.ok(performance.now() - t0 < 5000);
  });
});

test("a stalled body is 408 after the configured body timeout", async () => {
  await withGateway(WITH_MODEL, never, { bodyTimeoutMs: 300 }, async (port) => {
    const t0 = performance.now();
    const r = await rawRequest(port, head(100), '{"model":"chat",');
    const waited = performance.now() - t0;
    assert.equal(r.status, 408);
    assert.equal(errorCode(r), "request_timeout");
    assert.ok(waited >= 250 && waited < 5000, `answered after ${waited.toFixed(0)} ms`);
  });
});

/** Sends one event, then the engine's connection dies. */
const dying: FakeHandler = (_req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write('data: {"model":"chat","choices":[{"text":"x"}]}\n\n', () => res.socket?.destroy());
};

/** vLLM's mid-stream failure: an error object as an event, then [DONE], in a 200 stream. */
const errorEvent: FakeHandler = (_req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end(
    'data: {"model":"chat","choices":[{"text":"x"}]}\n\n' +
      'data: {"error":{"message":"Injected mid-stream engine failure.","type":"InternalServerError","param":null,"code":500}}\n\n' +
      "data: [DONE]\n\n",
  );
};

/** The stream the client receives, read until the gateway closes the connection. */
function streamUntilClose(port: number): Promise<string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ model: "chat", prompt: "x", stream: true });
    const s = connect(port, "127.0.0.1");
    let got = "";
    s.on("data", (c: Buffer) => {
      got += c.toString();
      if (got.includes("0\r\n\r\n")) s.destroy();
    });
    s.on("error", () => {});
    s.on("close", () => resolve(got));
    s.write(`${head(Buffer.byteLength(body))}\r\n\r\n${body}`);
  });
}

const errorsCounted = async (url: string, code: string): Promise<boolean> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new RegExp(`inference_model_request_error_total\\{[^}]*error_code="${code}"\\} 1\\n`).test(text);
};

test("a server that dies mid-stream: the client gets an SSE error event, and the error is counted", async () => {
  await withGateway(WITH_MODEL, dying, {}, async (port, url) => {
    const got = await streamUntilClose(port);
    assert.match(got, /data: \{"choices":\[\{"text":"x"\}\]|data: \{"model":"chat"/);
    assert.match(
      got,
      /data: \{"error":\{"message":"the model server's response broke off[^"]*","type":"upstream_error"/,
    );
    assert.ok(!got.includes("0\r\n\r\n"), "the response is not ended as complete");
    assert.ok(await errorsCounted(url, "upstream_stream_broken"));
  });
});

test("an engine's error event inside a 200 stream is counted as an error", async () => {
  await withGateway(WITH_MODEL, errorEvent, {}, async (port, url) => {
    const got = await streamUntilClose(port);
    assert.match(got, /Injected mid-stream engine failure/);
    assert.ok(await errorsCounted(url, "upstream_stream_error"));
  });
});

test("echoed model names are truncated; unknown names never become metric labels", async () => {
  await withGateway(WITH_MODEL, never, {}, async (port, url) => {
    const model = `m${"x".repeat(100_000)}`;
    const body = JSON.stringify({ model, prompt: "x" });
    const r = await rawRequest(port, head(Buffer.byteLength(body)), body);
    assert.equal(r.status, 404);
    assert.equal(errorCode(r), "model_not_found");
    assert.ok(r.body.length < 1000, `message of ${r.body.length} bytes`);
    assert.match(r.body, /\(100001 characters\)/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.ok(!metrics.includes("xxxxxxxx"), "the name is not a label value");
  });
  // A pool with no InferenceModel passes any name through: still no label per name.
  const echo: FakeHandler = (_req, res) => {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":{"message":"no such model","code":404}}');
  };
  await withGateway(POOL, echo, {}, async (port, url) => {
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ model: `random-name-${i}`, prompt: "x" });
      const r = await rawRequest(port, head(Buffer.byteLength(body)), body);
      assert.equal(r.status, 404);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.ok(!metrics.includes("random-name-"), "passed-through names are not label values");
    assert.match(metrics, /inference_model_request_total\{model_name="",target_model_name=""\} 20/);
  });
});
