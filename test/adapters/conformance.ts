/**
 * The adapter conformance suite, in the manner of hono's shared router tests: every adapter over
 * the core (the HTTP proxy, the ext_proc endpoint picker) runs these same cases. For every path a
 * request can take, it checks that the books balance afterwards: in-flight and running gauges back
 * at 0, the queue empty, and the admitter notified (a request queued behind the one under test is
 * dispatched as soon as it ends).
 *
 * The pool queues with a concurrency detector of maxConcurrency 1 on one or two fake model servers,
 * so "one request in flight" is exactly "saturated" and nothing depends on scraped metrics.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { eventually } from "../helpers/eventually.ts";
import {
  echoHandler,
  type FakeHandler,
  type FakeUpstream,
  startFakeUpstream,
} from "../helpers/fake-upstream.ts";

/** Reads CoreGauges from a datastore's endpoints and the gateway's /metrics text. */
export function coreGauges(
  endpoints: readonly { inFlight: { requests: number; tokens: number } }[],
  metricsText: string,
): CoreGauges {
  const sum = (family: string): number => {
    let total = 0;
    for (const line of metricsText.split("\n"))
      if (line.startsWith(`${family}{`) || line.startsWith(`${family} `))
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
    return total;
  };
  return {
    inFlightRequests: endpoints.reduce((s, e) => s + e.inFlight.requests, 0),
    inFlightTokens: endpoints.reduce((s, e) => s + e.inFlight.tokens, 0),
    queued: sum("inference_extension_flow_control_queue_size"),
    running: sum("inference_model_running_requests") + sum("inference_objective_running_requests"),
  };
}

/** The core's books, read after each case. */
export interface CoreGauges {
  /** Σ in-flight requests over every endpoint of the datastore. */
  readonly inFlightRequests: number;
  /** Σ in-flight tokens. */
  readonly inFlightTokens: number;
  /** Requests waiting in flow control (every pool, every band). */
  readonly queued: number;
  /** Σ `inference_model_running_requests` + `inference_objective_running_requests`. */
  readonly running: number;
}

/** One adapter, started in front of the given fake servers with the given manifests. */
export interface AdapterHarness {
  /** Where clients send OpenAI requests (`http://host:port`). */
  readonly url: string;
  gauges(): Promise<CoreGauges>;
  close(): Promise<void>;
}

export interface AdapterUnderTest {
  readonly name: string;
  /**
   * Starts the adapter. `manifests`: YAML (pool `pool`, models `chat` and `slow`, route; see
   * below); `endpoints`: `host:port` of the model servers, labelled `app: conformance`.
   * `requestTimeoutMs` is the request timeout the adapter's data plane must apply to model `slow`.
   */
  start(manifests: string, endpoints: readonly string[]): Promise<AdapterHarness>;
}

/** Request timeout of model `slow` (HTTPRoute rule timeout). */
export const SLOW_TIMEOUT_MS = 300;
/** Queue TTL of the pool. */
export const QUEUE_TTL_MS = 1500;

/** The manifests every adapter is started with. */
export const CONFORMANCE_MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec:
  selector: {app: conformance}
  targetPortNumber: 8000
  extensionRef: {name: epp}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec:
  modelName: chat
  criticality: Standard
  poolRef: {name: pool}
  targetModels: [{name: chat-v1}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: slow}
spec:
  modelName: slow
  criticality: Standard
  poolRef: {name: pool}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route}
spec:
  rules:
  - matches: [{headers: [{name: X-Gateway-Model-Name, value: slow}]}]
    backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
    timeouts: {request: ${SLOW_TIMEOUT_MS}ms}
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: epp}
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 1}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
  defaultRequestTTL: ${QUEUE_TTL_MS}ms
`;

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly text: string;
}

/** A request that can be aborted by the test; `answer` settles when it is over either way. */
function send(
  url: string,
  body: Record<string, unknown>,
  options: { signal?: AbortSignal; onFirstBytes?: () => void } = {},
): Promise<Answer> {
  return (async () => {
    const res = await request(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "one two three", max_tokens: 4, ...body }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let text = "";
    for await (const chunk of res.body) {
      text += chunk.toString();
      options.onFirstBytes?.();
    }
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.statusCode, code, text };
  })();
}

/** A handler that holds each request until `release()`, recording that it arrived and when it closed. */
function holding(mode: "headers" | "stream"): {
  handler: FakeHandler;
  arrived: Promise<void>;
  closed: Promise<void>;
  release: () => void;
} {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let arrived!: () => void;
  const arrivedP = new Promise<void>((r) => {
    arrived = r;
  });
  let closed!: () => void;
  const closedP = new Promise<void>((r) => {
    closed = r;
  });
  const handler: FakeHandler = async (req, res: ServerResponse) => {
    res.on("close", () => closed());
    if (mode === "stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: {"model":"${req.body["model"]}","choices":[{"text":"first"}]}\n\n`);
    }
    arrived();
    await released;
    if (res.destroyed) return;
    echoHandler(req, res, undefined as never);
  };
  return { handler, arrived: arrivedP, closed: closedP, release };
}

/** Runs the conformance suite for one adapter. */
export function runAdapterConformance(adapter: AdapterUnderTest): void {
  describe(`adapter conformance: ${adapter.name}`, () => {
    let a: FakeUpstream;
    let b: FakeUpstream;
    let h: AdapterHarness;
    before(async () => {
      a = await startFakeUpstream();
      b = await startFakeUpstream();
      h = await adapter.start(CONFORMANCE_MANIFESTS, [a.address]);
    });
    after(async () => {
      await h?.close();
      await a?.close();
      await b?.close();
    });

    const balanced = async (): Promise<void> => {
      await eventually(async () => {
        assert.deepEqual(await h.gauges(), { inFlightRequests: 0, inFlightTokens: 0, queued: 0, running: 0 });
      });
    };

    /**
     * Runs `path` while a second request waits in the queue behind it, then checks that the
     * waiting request is dispatched once the path ended (the admitter was notified and the slot
     * was released), and that every gauge is back at 0.
     */
    const withFollower = async (path: (follower: () => Promise<Answer>) => Promise<void>): Promise<void> => {
      let follower: Promise<Answer> | undefined;
      await path(() => {
        follower = send(h.url, { model: "chat" });
        return follower;
      });
      if (follower) {
        const f = await follower;
        assert.equal(f.status, 200, `the queued request is served after the path ended: ${f.text}`);
      }
      await balanced();
    };

    test("success", async () => {
      a.handler = echoHandler;
      await withFollower(async () => {
        const r = await send(h.url, { model: "chat" });
        assert.equal(r.status, 200);
        assert.match(r.text, /"model":"chat"/);
      });
    });

    test("refused before admission (bad JSON, unknown model)", async () => {
      a.handler = echoHandler;
      const bad = await request(`${h.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"model":',
      });
      assert.equal(bad.statusCode, 400);
      await bad.body.text();
      const unknown = await send(h.url, { model: "no-such-model" });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.code, "model_not_found");
      await balanced();
      const ok = await send(h.url, { model: "chat" });
      assert.equal(ok.status, 200, "the pool still has its slot");
      await balanced();
    });

    test("queued, then the client leaves", async () => {
      const hold = holding("headers");
      a.handler = hold.handler;
      const first = send(h.url, { model: "chat" });
      await hold.arrived;
      const abort = new AbortController();
      const queued = send(h.url, { model: "chat" }, { signal: abort.signal }).catch(() => undefined);
      await eventually(async () => assert.equal((await h.gauges()).queued, 1));
      abort.abort();
      await queued;
      await eventually(async () => assert.equal((await h.gauges()).queued, 0));
      a.handler = echoHandler;
      hold.release();
      assert.equal((await first).status, 200);
      await balanced();
    });

    test("the client leaves before the upstream headers", async () => {
      const hold = holding("headers");
      a.handler = hold.handler;
      await withFollower(async (follower) => {
        const abort = new AbortController();
        const gone = send(h.url, { model: "chat" }, { signal: abort.signal }).catch(() => undefined);
        await hold.arrived;
        a.handler = echoHandler;
        const next = follower();
        await eventually(async () => assert.equal((await h.gauges()).queued, 1));
        abort.abort();
        await gone;
        await hold.closed; // the upstream request was aborted too
        await next;
      });
      hold.release();
    });

    test("the client leaves mid-stream", async () => {
      const hold = holding("stream");
      a.handler = hold.handler;
      await withFollower(async (follower) => {
        const abort = new AbortController();
        let firstBytes!: () => void;
        const sawBytes = new Promise<void>((r) => {
          firstBytes = r;
        });
        const gone = send(
          h.url,
          { model: "chat", stream: true },
          { signal: abort.signal, onFirstBytes: firstBytes },
        ).catch(() => undefined);
        await sawBytes;
        a.handler = echoHandler;
        const next = follower();
        await eventually(async () => assert.equal((await h.gauges()).queued, 1));
        abort.abort();
        await gone;
        await hold.closed;
        await next;
      });
      hold.release();
    });

    test("upstream 5xx, then retry on another endpoint", async () => {
      await h.close();
      let failed = 0;
      a.handler = (_req, res) => {
        failed++;
        res.writeHead(503, { "content-type": "application/json" });
        res.end('{"error":"overloaded"}');
      };
      b.handler = echoHandler;
      h = await adapter.start(CONFORMANCE_MANIFESTS, [a.address, b.address]);
      try {
        // Until the failing server was picked first at least once (the scheduler may prefer either).
        for (let i = 0; i < 20 && failed === 0; i++) {
          const r = await send(h.url, { model: "chat" });
          assert.equal(r.status, 200, r.text);
        }
        assert.ok(failed >= 1, "the failing server was tried");
        await balanced();
      } finally {
        await h.close();
        a.handler = echoHandler;
        h = await adapter.start(CONFORMANCE_MANIFESTS, [a.address]);
      }
    });

    test("upstream timeout", async () => {
      const hold = holding("headers");
      a.handler = hold.handler;
      await withFollower(async (follower) => {
        const slow = send(h.url, { model: "slow" });
        await hold.arrived;
        a.handler = echoHandler;
        const next = follower();
        const r = await slow;
        assert.equal(r.status, 504, r.text);
        await next;
      });
      hold.release();
    });

    test("TTL expiry in the queue", async () => {
      const hold = holding("headers");
      a.handler = hold.handler;
      const first = send(h.url, { model: "chat" });
      await hold.arrived;
      const expired = await send(h.url, { model: "chat" });
      assert.equal(expired.status, 503, expired.text);
      assert.equal(expired.code, "queue_timeout");
      a.handler = echoHandler;
      hold.release();
      assert.equal((await first).status, 200);
      await balanced();
    });
  });
}
