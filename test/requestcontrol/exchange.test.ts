/**
 * The director's exchange on a fake clock, without any network: stages and hooks in order, the
 * in-flight charge (made at decision, moved on fallback, released exactly once), idempotent calls,
 * retries, refusals, client aborts, broken streams, the ext_proc entry with a subset hint, and the
 * request's preparation (once, before admission).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import type { ExchangeEntry } from "../../src/requestcontrol/decision.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import type { ExchangeView } from "../../src/requestcontrol/exchange-view.ts";
import { HOOK_NAMES } from "../../src/requestcontrol/lifecycle-hooks.ts";
import { PrefixCacheScorer } from "../../src/scheduling/plugins/scorers/prefix-cache-scorer.ts";
import type { SchedulingRequest } from "../../src/scheduling/types.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: p}
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
  poolRef: {name: p}
  targetModels: [{name: chat-v1}]
`;

/** The same with the scorer profile, whose prefix scorer prepares requests. */
const V2_MANIFESTS = MANIFESTS.replace(
  "metadata: {name: p}",
  'metadata:\n  name: p\n  annotations: {inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"}',
);

const files = tempFiles({ "m.yaml": MANIFESTS, "v2.yaml": V2_MANIFESTS });
after(() => files.cleanup());

function setup() {
  let clock = 1000;
  const datastore = new Datastore(loadConfig([files.path("m.yaml")], { defaultPort: 8081 }));
  datastore.apply(datastore.config, [
    { host: "10.0.0.1", labels: { app: "t" } },
    { host: "10.0.0.2", labels: { app: "t" } },
  ]);
  const director = new Director(datastore, { now: () => clock, random: () => 0 });
  const events: string[] = [];
  for (const name of HOOK_NAMES) director.hooks.on(name, (ex) => events.push(`${name}@${ex.id}`));
  return {
    datastore,
    director,
    events,
    tick: (ms: number) => {
      clock += ms;
    },
    inFlight: () =>
      Object.fromEntries(datastore.endpoints().map((e) => [e.endpoint.id, e.inFlight.requests])),
    begin: (body: unknown, headers: Record<string, string> = {}, entry?: ExchangeEntry) => {
      const ex = director.begin(
        { method: "POST", url: "/v1/completions", headers: { "x-request-id": "r1", ...headers } },
        entry ?? { kind: "listeners", listenerKeys: ["*"] },
      );
      return { ex, body: Buffer.from(JSON.stringify(body)) };
    },
  };
}

test("a streamed exchange runs its stages and hooks in order; TTFT is the first content token", async () => {
  const s = setup();
  let ended: ExchangeView | undefined;
  s.director.hooks.on("end", (v) => {
    ended = v;
  });
  const { ex, body } = s.begin({ model: "chat", prompt: "hi there", stream: true, max_tokens: 5 });
  s.tick(2);
  const d = await ex.decide(body);
  assert.equal(d.clientModel, "chat");
  assert.equal(d.targetModel, "chat-v1");
  assert.equal(JSON.parse(d.body.toString()).model, "chat-v1");
  assert.equal(d.bodyRewritten, true);
  assert.equal(d.setHeaders["x-gateway-model-name"], "chat");
  assert.equal(d.endpoints.length >= 1, true);
  ex.attempt(d.endpoints[0]!);
  s.tick(10);
  const action = ex.responseStarted(200, { "content-type": "text/event-stream" });
  assert.equal(action.kind, "relay");
  assert.deepEqual(action.kind === "relay" && action.head.removeHeaders, ["content-length"]);
  // vLLM's first chat-style event carries the role only: not a token.
  ex.responseChunk(
    Buffer.from('data: {"model":"chat-v1","choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'),
  );
  assert.equal(ex.view.firstTokenAt, undefined);
  s.tick(30);
  const out = ex.responseChunk(Buffer.from('data: {"model":"chat-v1","choices":[{"text":"Kyoto"}]}\n\n'));
  assert.match(out.toString(), /"model":"chat"/);
  ex.responseChunk(
    Buffer.from('data: {"usage":{"prompt_tokens":2,"completion_tokens":5}}\n\ndata: [DONE]\n\n'),
  );
  s.tick(8);
  ex.responseEnd();
  ex.end();
  ex.end();
  assert.deepEqual(s.events, [
    "received@r1",
    "routed@r1",
    "admitted@r1",
    "scheduled@r1",
    "attempt@r1",
    "firstToken@r1",
    "responseDone@r1",
    "end@r1",
  ]);
  assert.ok(ended);
  assert.equal(ended.outcome, "completed");
  assert.equal(ended.firstTokenAt! - ended.receivedAt, 42);
  assert.equal(ended.endedAt! - ended.receivedAt, 50);
  assert.equal(ended.completionTokens, 5);
  assert.equal(ended.errorCode, undefined);
});

test("in-flight is charged at decision, moves to a fallback, and is released exactly once", async () => {
  const s = setup();
  const { ex, body } = s.begin({ model: "chat", prompt: "x" });
  const d = await ex.decide(body);
  const [first, second] = d.endpoints.length > 1 ? d.endpoints : [d.endpoints[0], undefined];
  assert.equal(s.inFlight()[first!], 1, "charged before any attempt");
  assert.equal(await ex.decide(body), d, "decide is idempotent");
  ex.attempt(first!);
  ex.attempt(first!);
  assert.equal(s.inFlight()[first!], 1, "attempt is idempotent");
  assert.deepEqual(ex.responseStarted(503, {}), { kind: "retry" });
  ex.responseChunk(Buffer.from("overloaded"));
  const next = ex.attemptFailed({ kind: "status", status: 503 });
  assert.equal(ex.attemptFailed({ kind: "status", status: 503 }), next, "attemptFailed is idempotent");
  assert.ok(next !== undefined && next !== first);
  if (second !== undefined) assert.equal(next, second, "the scheduled fallback is tried first");
  ex.attempt(next);
  assert.deepEqual(s.inFlight(), { [first!]: 0, [next]: 1 });
  const action = ex.responseStarted(200, { "content-type": "application/json" });
  assert.equal(
    action.kind === "relay" && action.head.setHeaders["x-gateway-destination-endpoint-served"],
    next,
  );
  ex.responseChunk(Buffer.from('{"model":"chat-v1"}'));
  ex.responseEnd();
  ex.end();
  ex.end();
  assert.deepEqual(s.inFlight(), { [first!]: 0, [next]: 0 });
});

test("the in-flight KV charge is the prompt plus half of max_tokens, moved to a fallback and released once", async () => {
  const s = setup();
  const charge = () =>
    Object.fromEntries(
      s.datastore.endpoints().map((e) => [e.endpoint.id, [e.inFlight.tokens, e.inFlight.kvTokens]]),
    );
  const { ex, body } = s.begin({ model: "chat", prompt: "one two three four", max_tokens: 100 });
  const d = await ex.decide(body);
  const first = d.endpoints[0]!;
  const [tokens, kvTokens] = charge()[first]!;
  assert.ok(tokens! > 100, "tokens: prompt + max_tokens");
  assert.equal(kvTokens, tokens! - 50, "kvTokens: prompt + max_tokens / 2");
  ex.attempt(first);
  ex.responseStarted(503, {});
  const next = ex.attemptFailed({ kind: "status", status: 503 })!;
  ex.attempt(next);
  assert.deepEqual(charge(), { [first]: [0, 0], [next]: [tokens, kvTokens] });
  ex.responseStarted(200, { "content-type": "application/json" });
  ex.responseEnd();
  ex.end();
  assert.deepEqual(charge(), { [first]: [0, 0], [next]: [0, 0] });
});

test("a 5xx with no endpoint left is relayed, not retried, and counted as the engine's error", async () => {
  const s = setup();
  s.datastore.apply(s.datastore.config, [{ host: "10.0.0.1", labels: { app: "t" } }]);
  const { ex, body } = s.begin({ model: "chat", prompt: "x" });
  const d = await ex.decide(body);
  ex.attempt(d.endpoints[0]!);
  const action = ex.responseStarted(503, {});
  assert.equal(action.kind, "relay");
  ex.responseEnd();
  ex.end();
  assert.equal(ex.view.errorCode, "upstream_503");
  assert.equal(ex.view.outcome, "completed");
});

test("connection failures back the endpoint off and lead to the next one; none left → 502", async () => {
  const s = setup();
  const { ex, body } = s.begin({ model: "chat", prompt: "x" });
  const d = await ex.decide(body);
  let endpoint: string | undefined = d.endpoints[0];
  const tried: string[] = [];
  while (endpoint) {
    tried.push(endpoint);
    ex.attempt(endpoint);
    endpoint = ex.attemptFailed({ kind: "connect", reason: "ECONNREFUSED connect" });
  }
  assert.equal(tried.length, 2);
  const err = ex.fail();
  assert.equal(err.status, 502);
  assert.equal(err.headers["x-request-id"], "r1");
  assert.match(JSON.parse(err.body).error.message, /failed after 2 attempts.*ECONNREFUSED/);
  ex.end();
  assert.equal(ex.view.outcome, "refused");
  assert.equal(ex.view.errorCode, "upstream_failure");
  for (const e of s.datastore.endpoints()) assert.ok(e.unreachableUntil > 0, "backed off");
  assert.deepEqual(Object.values(s.inFlight()), [0, 0]);
});

test("refused before admission: error and end hooks, no routed; the error is OpenAI-shaped", async () => {
  const s = setup();
  const { ex, body } = s.begin({ model: "gpt-4", prompt: "x" });
  await assert.rejects(ex.decide(body), (e: Error) => /does not exist/.test(e.message));
  const err = ex.fail(await ex.decide(body).catch((e: unknown) => e));
  assert.equal(err.status, 404);
  assert.equal(JSON.parse(err.body).error.code, "model_not_found");
  ex.end();
  assert.deepEqual(s.events, ["received@r1", "error@r1", "end@r1"]);
  assert.equal(ex.view.outcome, "refused");
});

test("the client leaving ends the exchange as client_gone; a broken stream sends an SSE error event", async () => {
  const s = setup();
  const gone = s.begin({ model: "chat", prompt: "x", stream: true });
  const d = await gone.ex.decide(gone.body);
  gone.ex.attempt(d.endpoints[0]!);
  gone.ex.clientGone();
  gone.ex.end();
  assert.equal(gone.ex.view.outcome, "client_gone");
  assert.equal(gone.ex.view.errorCode, "client_disconnected");

  const broken = s.begin({ model: "chat", prompt: "x", stream: true }, { "x-request-id": "r2" });
  const d2 = await broken.ex.decide(broken.body);
  broken.ex.attempt(d2.endpoints[0]!);
  broken.ex.responseStarted(200, { "content-type": "text/event-stream" });
  broken.ex.responseChunk(Buffer.from('data: {"choices":[{"text":"a"}]}\n\n'));
  const tail = broken.ex.breakResponse("ECONNRESET socket hang up").toString();
  assert.match(tail, /^data: \{"error":\{"message":"the model server's response broke off: ECONNRESET/);
  assert.ok(tail.endsWith("\n\n"));
  broken.ex.end();
  assert.equal(broken.ex.view.outcome, "broken");
  assert.equal(broken.ex.view.errorCode, "upstream_stream_broken");
  assert.deepEqual(Object.values(s.inFlight()), [0, 0]);
});

test("ext_proc entry: the pool is given, no routing; the subset hint narrows the candidates", async () => {
  const s = setup();
  const entry: ExchangeEntry = { kind: "pool", poolKey: "default/p", subset: ["10.0.0.2:8000"] };
  const { ex, body } = s.begin({ model: "chat", prompt: "x" }, {}, entry);
  const d = await ex.decide(body);
  assert.deepEqual(d.endpoints, ["10.0.0.2:8000"]);
  assert.equal(d.timeoutMs, undefined);
  ex.end();
  const none = s.begin(
    { model: "chat", prompt: "x" },
    {},
    { kind: "pool", poolKey: "default/p", subset: [] },
  );
  await assert.rejects(none.ex.decide(none.body), (e: Error & { status?: number }) => e.status === 503);
  none.ex.end();
  assert.deepEqual(Object.values(s.inFlight()), [0, 0]);
});

test("a throwing hook subscriber is removed and cannot break requests", async () => {
  const s = setup();
  let calls = 0;
  s.director.hooks.on("scheduled", () => {
    calls++;
    throw new Error("boom");
  });
  for (const id of ["a", "b"]) {
    const { ex, body } = s.begin({ model: "chat", prompt: "x" }, { "x-request-id": id });
    await ex.decide(body);
    ex.end();
  }
  assert.equal(calls, 1);
});

test("explanations are built only while someone asks (explainWhile); the flow id is on the view", async () => {
  const s = setup();
  const decide = async (headers: Record<string, string> = {}) => {
    const { ex, body } = s.begin({ model: "chat", prompt: "hi" }, headers);
    await ex.decide(body);
    ex.end();
    return ex.view;
  };
  const plain = await decide();
  assert.equal(plain.explanation, undefined, "nobody asked: nothing built");
  assert.equal(plain.flowId, "chat", "the flow is the client's model without a fairness id");
  let wanted = true;
  const release = s.director.explainWhile(() => wanted);
  const explained = await decide({ "x-gateway-inference-fairness-id": "tenant-a" });
  assert.equal(explained.flowId, "tenant-a");
  assert.ok(explained.explanation, "explained while asked");
  assert.equal(explained.explanation.chosen.endpoint, explained.endpoints[0]);
  assert.ok(explained.explanation.runnerUp, "the other endpoint's scores");
  wanted = false;
  assert.equal((await decide()).explanation, undefined, "the switch is asked per decision");
  wanted = true;
  release();
  assert.equal((await decide()).explanation, undefined, "released");
});

test("the exchange prepares each request once, before admission; a retry's decision reuses it", async () => {
  const datastore = new Datastore(loadConfig([files.path("v2.yaml")], { defaultPort: 8081 }));
  datastore.apply(datastore.config, [
    { host: "10.0.0.1", labels: { app: "t" } },
    { host: "10.0.0.2", labels: { app: "t" } },
    { host: "10.0.0.3", labels: { app: "t" } },
    { host: "10.0.0.4", labels: { app: "t" } },
  ]);
  const director = new Director(datastore, { now: () => 1000, random: () => 0, maxAttempts: 4 });
  const events: string[] = [];
  director.hooks.on("admitted", (v) => events.push(`admitted ${v.id}`));
  const prepared: SchedulingRequest[] = [];
  const original = PrefixCacheScorer.prototype.prepareRequest;
  PrefixCacheScorer.prototype.prepareRequest = function (this: PrefixCacheScorer, r: SchedulingRequest) {
    prepared.push(r);
    events.push(`prepared ${r.requestId}`);
    original.call(this, r);
  };
  try {
    for (const id of ["a", "b"]) {
      const ex = director.begin(
        { method: "POST", url: "/v1/completions", headers: { "x-request-id": id } },
        { kind: "listeners", listenerKeys: ["*"] },
      );
      const d = await ex.decide(Buffer.from(JSON.stringify({ model: "chat", prompt: `hello ${id}` })));
      // Every scheduled endpoint fails: the retries reach a fresh decision over the rest.
      let next: string | undefined = d.endpoints[0];
      let attempts = 0;
      while (next !== undefined) {
        ex.attempt(next);
        attempts++;
        next = ex.attemptFailed({ kind: "connect", reason: "ECONNREFUSED" });
      }
      assert.equal(attempts, 4, "the fallbacks and one fresh decision were tried");
      ex.end();
    }
  } finally {
    PrefixCacheScorer.prototype.prepareRequest = original;
  }
  assert.deepEqual(events, ["prepared a", "admitted a", "prepared b", "admitted b"]);
  assert.deepEqual(
    prepared.map((r) => r.prefixText),
    ["hello a", "hello b"],
  );
});
