import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import type { GatewayOptions, RunningGateway } from "../../src/gateway/start-gateway.ts";
import { captureLogger } from "../helpers/capture-logger.ts";
import { deadPort, echoHandler, type FakeUpstream, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { type InProcessGateway, startInProcessGateway } from "../helpers/in-process-gateway.ts";

// Every model here is Critical: the pool has no queueing, so the legacy admitter would shed
// Standard requests whenever scraped metrics lag on a loaded machine; these tests are about the proxy.
const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec:
  selector: {app: t}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec:
  modelName: chat
  criticality: Critical
  poolRef: {name: pool}
  targetModels: [{name: chat-v1}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: slow}
spec:
  modelName: slow
  criticality: Critical
  poolRef: {name: pool}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - matches: [{headers: [{name: X-Gateway-Model-Name, value: slow}]}]
    backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
    timeouts: {request: 300ms}
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

type Harness = InProcessGateway;

function gateway(addresses: string[], options: Partial<GatewayOptions> = {}): Promise<Harness> {
  return startInProcessGateway(MANIFESTS, addresses, { app: "t" }, options);
}

async function stop(h: Harness | undefined): Promise<void> {
  await h?.close();
}

function post(gw: RunningGateway, body: unknown, headers: Record<string, string> = {}) {
  return request(`${gw.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("proxy against fake model servers", () => {
  let up: FakeUpstream;
  let h: Harness;
  before(async () => {
    up = await startFakeUpstream();
    h = await gateway([up.address]);
  });
  after(async () => {
    await stop(h);
    await up.close();
  });

  test("model is rewritten to the target on the way in and back on the way out", async () => {
    up.handler = echoHandler;
    const res = await post(h.gw, { model: "chat", prompt: "hi" }, { "x-request-id": "req-1" });
    const body = (await res.body.json()) as { model: string };
    assert.equal(res.statusCode, 200);
    assert.equal(body.model, "chat");
    assert.equal(up.received.at(-1)?.body["model"], "chat-v1");
    assert.equal(res.headers["x-request-id"], "req-1");
    assert.equal(up.received.at(-1)?.headers["x-request-id"], "req-1");
    assert.equal(up.received.at(-1)?.headers["x-gateway-model-name"], "chat");
    assert.equal(res.headers["x-gateway-destination-endpoint-served"], up.address);
  });

  test("SSE events reach the client one at a time: the server sends the next only after the client has the previous", async () => {
    let release!: () => void;
    const sentSecond = new Promise<void>((resolve) => {
      up.handler = async (req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: {"model":"${req.body["model"]}","choices":[{"text":"one"}]}\n\n`);
        await new Promise<void>((r) => {
          release = r;
        });
        res.write(`data: {"model":"${req.body["model"]}","choices":[{"text":"two"}]}\n\n`);
        res.end("data: [DONE]\n\n");
        resolve();
      };
    });
    const res = await post(h.gw, { model: "chat", prompt: "hi", stream: true });
    assert.equal(res.headers["content-type"], "text/event-stream");
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(String(first.value), 'data: {"model":"chat","choices":[{"text":"one"}]}\n\n');
    release();
    let rest = "";
    for (let n = await it.next(); !n.done; n = await it.next()) rest += String(n.value);
    await sentSecond;
    assert.equal(rest, 'data: {"model":"chat","choices":[{"text":"two"}]}\n\ndata: [DONE]\n\n');
  });

  test("a client that disconnects aborts the upstream request", async () => {
    const upstreamClosed = new Promise<void>((resolve) => {
      up.handler = (_req, res, raw) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write('data: {"choices":[{"text":"x"}]}\n\n');
        raw.socket.on("close", () => resolve());
      };
    });
    const ac = new AbortController();
    const res = await request(`${h.gw.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "chat", prompt: "hi", stream: true }),
      signal: ac.signal,
    });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    ac.abort();
    await upstreamClosed;
  });

  test("errors are OpenAI-shaped and the gateway keeps serving", async () => {
    up.handler = echoHandler;
    const cases: [unknown, number, string][] = [
      ['{"model":', 400, "invalid_json"],
      [{ prompt: "x" }, 400, "invalid_request"],
      [{ model: "gpt-4", prompt: "x" }, 404, "model_not_found"],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(h.gw, body);
      assert.equal(res.statusCode, status);
      const json = (await res.body.json()) as { error: { code: string; message: string; type: string } };
      assert.equal(json.error.code, code);
      assert.match(String(res.headers["x-request-id"]), /^[0-9a-f-]{36}$/, "errors carry a request id");
      assert.equal(typeof json.error.message, "string");
    }
    const ok = await post(h.gw, { model: "chat", prompt: "x" });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test("a steering header from the client has no effect", async () => {
    up.handler = echoHandler;
    const other = await startFakeUpstream();
    try {
      const res = await post(
        h.gw,
        { model: "chat", prompt: "x" },
        { "x-gateway-destination-endpoint": other.address },
      );
      await res.body.dump();
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["x-gateway-destination-endpoint-served"], up.address);
      assert.equal(other.received.length, 0);
      assert.equal(up.received.at(-1)?.headers["x-gateway-destination-endpoint"], undefined);
    } finally {
      await other.close();
    }
  });

  test("the request timeout of the route gives 504 when the server does not answer", async () => {
    up.handler = () => {};
    const res = await post(h.gw, { model: "slow", prompt: "x" });
    assert.equal(res.statusCode, 504);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, "upstream_timeout");
  });

  test("/v1/models lists the names clients can use", async () => {
    const res = await request(`${h.gw.url}/v1/models`);
    const body = (await res.body.json()) as { object: string; data: { id: string }[] };
    assert.equal(body.object, "list");
    assert.deepEqual(
      body.data.map((m) => m.id),
      ["chat", "slow"],
    );
    const one = await request(`${h.gw.url}/v1/models/chat`);
    assert.equal(((await one.body.json()) as { id: string }).id, "chat");
    const missing = await request(`${h.gw.url}/v1/models/gpt-4`);
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
  });

  test("/metrics exposes the Inference Extension's request metrics", async () => {
    const text = await (await request(`${h.gw.url}/metrics`)).body.text();
    assert.match(text, /inference_model_request_total\{model_name="chat",target_model_name="chat-v1"\} \d+/);
    assert.match(
      text,
      /inference_model_request_error_total\{model_name="slow",target_model_name="slow",error_code="upstream_timeout"\} 1/,
    );
    assert.match(
      text,
      /inference_model_input_tokens_sum\{model_name="chat",target_model_name="chat-v1"\} \d+/,
    );
    assert.match(text, /inference_pool_ready_pods\{name="pool"\} 1/);
  });
});

test("bodies over the limit get 413, and the next request is served", async () => {
  const up = await startFakeUpstream();
  const h = await gateway([up.address], { bodyLimit: 1000 });
  try {
    const res = await post(h.gw, { model: "chat", prompt: "x".repeat(2000) });
    assert.equal(res.statusCode, 413);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, "payload_too_large");
    const ok = await post(h.gw, { model: "chat", prompt: "x" });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(up.received.length, 1);
  } finally {
    await stop(h);
    await up.close();
  }
});

test("connection failures and 5xx before the first byte are retried on another endpoint", async () => {
  const failing = await startFakeUpstream((_req, res) => {
    res.writeHead(503, { "content-type": "application/json" });
    res.end('{"error":"overloaded"}');
  });
  const good = await startFakeUpstream();
  const h = await gateway([failing.address, `127.0.0.1:${await deadPort()}`, good.address]);
  try {
    for (let i = 0; i < 12; i++) {
      const res = await post(h.gw, { model: "chat", prompt: "x" });
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { model: string }).model, "chat");
    }
    assert.equal(good.received.length, 12);
  } finally {
    await stop(h);
    await failing.close();
    await good.close();
  }
});

test("a stream that breaks after the first byte is not retried; the client sees the break", async () => {
  let calls = 0;
  const breaking = await startFakeUpstream((_req, res) => {
    calls++;
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write('data: {"choices":[{"text":"x"}]}\n\n', () => res.socket?.destroy());
  });
  const h = await gateway([breaking.address]);
  try {
    const res = await post(h.gw, { model: "chat", prompt: "x", stream: true });
    await assert.rejects(res.body.text());
    assert.equal(calls, 1);
  } finally {
    await stop(h);
    await breaking.close();
  }
});

test("no endpoint gives 503; only dead endpoints give 502", async () => {
  const none = await gateway([]);
  try {
    const res = await post(none.gw, { model: "chat", prompt: "x" });
    assert.equal(res.statusCode, 503);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, "no_ready_endpoint");
  } finally {
    await stop(none);
  }
  const { logger, records } = captureLogger();
  const dead = await gateway([`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`], { logger });
  try {
    const res = await post(dead.gw, { model: "chat", prompt: "x" });
    assert.equal(res.statusCode, 502);
    const err = ((await res.body.json()) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, "upstream_failure");
    assert.match(err.message, /after 2 attempts/);
    const states = dead.gw.datastore.endpoints();
    assert.ok(
      states.every((s) => s.connectFailures === 1 && s.unreachableUntil > Date.now()),
      "endpoints that refused connections are in back-off",
    );
    const again = await post(dead.gw, { model: "chat", prompt: "x" });
    await again.body.dump();
    assert.equal(again.statusCode, 502, "with every endpoint in back-off, they are still tried");
    assert.ok(dead.gw.datastore.endpoints().every((s) => s.connectFailures === 2));
    const warnings = records.filter((r) => r.msg.includes("could not be reached"));
    assert.equal(warnings.length, 2, "one warning per endpoint when its back-off starts, not per request");
  } finally {
    await stop(dead);
  }
});

test("a reload applies a valid change and keeps the running configuration on an invalid one", async () => {
  const up = await startFakeUpstream();
  const h = await gateway([up.address]);
  try {
    const extra = `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: new}
spec: {modelName: new-model, criticality: Critical, poolRef: {name: pool}}
`;
    assert.equal((await post(h.gw, { model: "new-model", prompt: "x" })).statusCode, 404);
    writeFileSync(h.files.path("gateway.yaml"), MANIFESTS + extra);
    assert.equal(h.gw.reload(), true);
    const ok = await post(h.gw, { model: "new-model", prompt: "x" });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    writeFileSync(
      h.files.path("gateway.yaml"),
      `${MANIFESTS + extra}  targetModels: [{name: a, weight: 1}, {name: b}]\n`,
    );
    assert.equal(h.gw.reload(), false);
    const still = await post(h.gw, { model: "new-model", prompt: "x" });
    assert.equal(still.statusCode, 200);
    await still.body.dump();
  } finally {
    await stop(h);
    await up.close();
  }
});

test("a target model no endpoint serves is reported once", async () => {
  const up = await startFakeUpstream();
  up.served = [{ id: "/model/chat" }, { id: "slow" }];
  const { logger, records } = captureLogger();
  const h = await gateway([up.address], { logger });
  try {
    await h.gw.checkServedModels();
    await h.gw.checkServedModels();
    const warnings = records.filter(
      (r) => r.level === 40 && r.msg.includes("no endpoint of the pool serves"),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.msg, /sends model "chat-v1".*they serve: \/model\/chat, slow/);
  } finally {
    await stop(h);
    await up.close();
  }
});

test("changes to the endpoints file and the manifests are picked up while running", async () => {
  const up = await startFakeUpstream();
  const h = await gateway([], { watchIntervalMs: 50 });
  const until = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!(await ok())) {
      assert.ok(Date.now() < deadline, `not picked up: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const status = async (model: string): Promise<number> => {
    const res = await post(h.gw, { model, prompt: "x" });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    assert.equal(await status("chat"), 503);
    writeFileSync(
      h.files.path("endpoints.yaml"),
      `endpoints:\n  - address: ${up.address}\n    labels: {app: t}\n`,
    );
    await until("endpoints file", async () => (await status("chat")) === 200);
    writeFileSync(
      h.files.path("gateway.yaml"),
      `${MANIFESTS}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: later}
spec: {modelName: later, criticality: Critical, poolRef: {name: pool}}
`,
    );
    await until("manifests", async () => (await status("later")) === 200);
  } finally {
    await stop(h);
    await up.close();
  }
});

test("requests that name an InferenceObjective are counted under inference_objective_*", async () => {
  const up = await startFakeUpstream();
  const { gw, close } = await startInProcessGateway(
    `${MANIFESTS}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -3, poolRef: {name: pool}}
`,
    [up.address],
    { app: "t" },
  );
  try {
    const res = await post(gw, { model: "chat", prompt: "x" }, { "x-gateway-inference-objective": "batch" });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    const text = await (await request(`${gw.url}/metrics`)).body.text();
    assert.match(
      text,
      /inference_objective_request_total\{model_name="chat",target_model_name="chat-v1"\} 1/,
    );
    assert.doesNotMatch(text, /inference_model_request_total\{model_name="chat"/);
  } finally {
    await close();
    await up.close();
  }
});

test("a client's Expect: 100-continue (curl with large bodies) is answered by the gateway, not forwarded", async () => {
  const up = await startFakeUpstream();
  const h = await gateway([up.address]);
  try {
    const body = JSON.stringify({ model: "chat", prompt: "x".repeat(3000) });
    const { port } = new URL(h.gw.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1");
      let text = "";
      let sent = false;
      socket.on("data", (c) => {
        text += String(c);
        if (!sent && text.includes("100 Continue\r\n\r\n")) {
          sent = true;
          socket.write(body);
        }
        if (text.includes('"model"') || text.includes('"error"')) socket.end();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.write(
        `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
      );
    });
    assert.match(answer, /^HTTP\/1.1 100 Continue/);
    assert.match(answer, /HTTP\/1.1 200 OK/);
    assert.match(answer, /"model":"chat"/);
    assert.equal(up.received.at(-1)?.headers["expect"], undefined);
  } finally {
    await stop(h);
    await up.close();
  }
});
