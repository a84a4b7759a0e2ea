import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { FlowControlMetrics } from "../../src/flowcontrol/metrics.ts";
import { GatewayDashboardFeed } from "../../src/observability/dashboard/dashboard-feed.ts";
import type { DashboardEvent } from "../../src/observability/dashboard/events.ts";
import type { ExchangeView } from "../../src/requestcontrol/exchange-view.ts";
import { LifecycleHooks } from "../../src/requestcontrol/lifecycle-hooks.ts";

const POOL = "default/qwen-pool";

/** The seed's configuration with two endpoints, a fake flow controller, hooks, and a clock we move. */
function setUp(options: { decisionsPerTick?: number; historyTicks?: number } = {}) {
  let now = 1_000_000;
  const datastore = new Datastore(loadConfig(["examples/seed"], { defaultPort: 8081 }), {
    stalenessMs: 2000,
  });
  datastore.apply(datastore.config, [
    { host: "10.1.0.1", port: 8000, labels: { app: "qwen" } },
    { host: "10.1.0.2", port: 8000, labels: { app: "qwen" } },
  ]);
  const hooks = new LifecycleHooks();
  const flowControl = new FlowControlMetrics(new Registry());
  const bands = [
    { priority: 1, size: 0, bytes: 0 },
    { priority: 0, size: 3, bytes: 300 },
  ];
  flowControl.track({
    poolName: "qwen-pool",
    snapshot: () => ({ bands, saturation: 1.1 }),
    flowSizes: () => [
      { priority: 1, flows: [] },
      { priority: 0, flows: [{ flowId: "travel-helper", size: 3 }] },
    ],
  });
  const feed = new GatewayDashboardFeed(
    { datastore, hooks, flowControl },
    { now: () => now, tickMs: 1000, ...options },
  );
  const events: DashboardEvent[] = [];
  return {
    datastore,
    hooks,
    feed,
    events,
    advance(ms: number) {
      now += ms;
    },
    now: () => now,
    listen: () => feed.subscribe((e) => events.push(e)),
  };
}

function exchange(over: Partial<ExchangeView>): ExchangeView {
  return {
    id: "r1",
    method: "POST",
    path: "/v1/completions",
    receivedAt: 0,
    requestBytes: 10,
    clientModel: "qwen",
    targetModel: "qwen",
    poolKey: POOL,
    priority: 1,
    family: "model",
    knownModel: true,
    stream: true,
    admittedAt: 0,
    queuedAt: undefined,
    endpoints: ["10.1.0.1:8000"],
    endpoint: "10.1.0.1:8000",
    attempts: 1,
    explanation: undefined,
    status: 200,
    respondedAt: 5,
    firstTokenAt: 100,
    endedAt: 1000,
    responseBytes: 100,
    promptTokens: 10,
    completionTokens: 10,
    errorCode: undefined,
    errorMessage: undefined,
    outcome: "completed",
    ...over,
  };
}

function last<T extends DashboardEvent["type"]>(events: DashboardEvent[], type: T) {
  return events.filter((e) => e.type === type).at(-1) as Extract<DashboardEvent, { type: T }> | undefined;
}

test("with no dashboard open the feed subscribes to nothing; the first opens, the last closes", () => {
  const t = setUp();
  for (const h of ["admitted", "scheduled", "end"] as const) assert.equal(t.hooks.has(h), false);
  const offA = t.listen();
  const offB = t.listen();
  for (const h of ["admitted", "scheduled", "end"] as const) assert.equal(t.hooks.has(h), true);
  offA();
  assert.equal(t.hooks.has("end"), true);
  offB();
  for (const h of ["admitted", "scheduled", "end"] as const) assert.equal(t.hooks.has(h), false);
  t.feed.close();
});

test("a tick reports admissions, sheds and TTL expiries per band as rates, with queue lengths and flows", () => {
  const t = setUp();
  const off = t.listen();
  for (let i = 0; i < 4; i++) t.hooks.emit("admitted", exchange({ priority: 0 }));
  t.hooks.emit("admitted", exchange({ priority: 1 }));
  t.hooks.emit("end", exchange({ priority: 0, errorCode: "queue_timeout", outcome: "refused" }));
  t.hooks.emit("end", exchange({ priority: -1, errorCode: "request_shed", outcome: "refused" }));
  t.hooks.emit("end", exchange({ priority: -1, errorCode: "queue_full", outcome: "refused" }));
  t.advance(2000);
  t.feed.tick();
  const q = last(t.events, "queues")!.pools.find((p) => p.pool === POOL)!;
  assert.deepEqual(
    q.bands.map((b) => [b.priority, b.priorityClass, b.queued, b.admittedPerS, b.shedPerS, b.expiredPerS]),
    [
      [1, "Critical", 0, 0.5, 0, 0],
      [0, "Standard", 3, 2, 0, 0.5],
      [-1, "Sheddable", 0, 0, 1, 0],
    ],
  );
  assert.deepEqual(q.bands[1]!.flows, [{ flow: "travel-helper", queued: 3 }]);
  // The next tick starts from zero.
  t.advance(1000);
  t.feed.tick();
  const next = last(t.events, "queues")!.pools[0]!;
  assert.ok(next.bands.every((b) => b.admittedPerS === 0 && b.shedPerS === 0 && b.expiredPerS === 0));
  off();
  t.feed.close();
});

test("traffic per model and class: TTFT to the first token, TPOT, tokens and errors per second", () => {
  const t = setUp();
  const off = t.listen();
  t.hooks.emit("end", exchange({ firstTokenAt: 100, endedAt: 1000, completionTokens: 10 }));
  t.hooks.emit("end", exchange({ firstTokenAt: 300, endedAt: 1200, completionTokens: 10 }));
  t.hooks.emit(
    "end",
    exchange({
      clientModel: "travel-helper",
      priority: 0,
      firstTokenAt: 2000,
      completionTokens: 4,
      endedAt: 2300,
    }),
  );
  t.hooks.emit(
    "end",
    exchange({
      clientModel: "secret-model-name",
      knownModel: false,
      priority: 0,
      errorCode: "model_not_found",
    }),
  );
  t.advance(1000);
  t.feed.tick();
  const points = last(t.events, "traffic")!.points;
  const by = (model: string) => points.find((p) => p.model === model)!;
  assert.equal(by("qwen").priorityClass, "Critical");
  assert.equal(by("qwen").requestsPerS, 2);
  assert.equal(by("qwen").ttftMeanMs, 200);
  assert.equal(by("qwen").ttftMaxMs, 300);
  assert.equal(by("qwen").tpotMeanMs, 100);
  assert.equal(by("qwen").outputTokensPerS, 20);
  assert.equal(by("travel-helper").priorityClass, "Standard");
  assert.equal(by("travel-helper").tpotMeanMs, 100);
  // A model name nobody configured never becomes a series of its own.
  assert.equal(
    points.some((p) => p.model === "secret-model-name"),
    false,
  );
  assert.equal(by("").errorsPerS, 1);
  off();
  t.feed.close();
});

test("decisions carry each candidate's scores; at most decisionsPerTick are built, the replay keeps the latest", () => {
  const t = setUp({ decisionsPerTick: 3 });
  const off = t.listen();
  const explanation = {
    profile: "default",
    chosen: { endpoint: "10.1.0.1:8000", total: 5.5, scores: { "queue-scorer": 1, "kv-cache-scorer": 0.75 } },
    runnerUp: {
      endpoint: "10.1.0.2:8000",
      total: 2,
      scores: { "queue-scorer": 0.5, "kv-cache-scorer": 0.25 },
    },
    filteredOut: 1,
  };
  for (let i = 0; i < 10; i++)
    t.hooks.emit(
      "scheduled",
      exchange({ id: `r${i}`, explanation, endpoints: ["10.1.0.1:8000", "10.1.0.2:8000"] }),
    );
  t.advance(1000);
  t.feed.tick();
  const d = last(t.events, "decisions")!.decisions;
  assert.deepEqual(
    d.map((x) => x.requestId),
    ["r0", "r1", "r2"],
  );
  assert.deepEqual(d[0]!.candidates, [explanation.chosen, explanation.runnerUp]);
  assert.equal(d[0]!.filteredOut, 1);
  assert.equal(d[0]!.priorityClass, "Critical");
  t.hooks.emit("scheduled", exchange({ id: "plain", explanation: undefined }));
  t.advance(1000);
  t.feed.tick();
  assert.deepEqual(last(t.events, "decisions")!.decisions[0]!.candidates, []);
  const replayed = t.feed.replay().find((e) => e.type === "decisions");
  assert.equal(replayed?.type === "decisions" && replayed.decisions.length, 4);
  off();
  t.feed.close();
});

test("pools: saturation and each endpoint's load, metrics age, staleness and back-off", () => {
  const t = setUp();
  const a = t.datastore.endpoint("10.1.0.1:8000")!;
  a.metrics = { ...a.metrics, waiting: 4, running: 7, kvCacheUsage: 0.5, updatedAt: t.now() - 300 };
  a.inFlight.requests = 9;
  t.datastore.setNeverScrapedIsStale(true);
  t.datastore.markUnreachable("10.1.0.2:8000", t.now());
  const off = t.listen();
  t.feed.tick();
  const pool = last(t.events, "pools")!.pools.find((p) => p.pool === POOL)!;
  assert.equal(pool.saturation, 1.1);
  assert.deepEqual(pool.endpoints[0], {
    id: "10.1.0.1:8000",
    waiting: 4,
    running: 7,
    kvCacheUsage: 0.5,
    inFlight: 9,
    metricsAgeMs: 300,
    stale: false,
    ejection: null,
  });
  assert.equal(pool.endpoints[1]!.metricsAgeMs, null);
  assert.equal(pool.endpoints[1]!.stale, true);
  assert.deepEqual(pool.endpoints[1]!.ejection, { reason: "unreachable", until: t.now() + 1000 });
  off();
  t.feed.close();
});

test("config: sent when it changes; served-models findings and a rejected reload", () => {
  const t = setUp();
  const off = t.listen();
  t.feed.tick();
  t.feed.tick();
  assert.equal(t.events.filter((e) => e.type === "config").length, 1, "unchanged: sent once");
  const first = last(t.events, "config")!.config;
  assert.deepEqual([first.pools, first.models, first.objectives], [1, 2, 0]);
  assert.deepEqual(first.servedModels, [{ pool: POOL, checked: false, unserved: [] }]);
  t.datastore.setServedModels(POOL, { models: new Set(["qwen"]), adapters: new Set() });
  t.feed.reloadRejected(["bad.yaml:3: InferenceModel m: spec.poolRef: is required"]);
  t.advance(1000);
  t.feed.tick();
  const c = last(t.events, "config")!.config;
  assert.deepEqual(c.servedModels, [
    { pool: POOL, checked: true, unserved: [{ model: "travel-helper", target: "travel-helper-v1" }] },
  ]);
  assert.deepEqual(c.rejected, {
    at: t.now() - 1000,
    errors: ["bad.yaml:3: InferenceModel m: spec.poolRef: is required"],
  });
  // An accepted reload clears it and moves loadedAt.
  t.advance(500);
  // A reload is a new snapshot (here of the same manifests) with the same endpoints.
  t.datastore.apply(
    { ...t.datastore.config },
    t.datastore.endpoints().map(({ endpoint: { host, port, labels } }) => ({ host, port, labels })),
  );
  t.feed.tick();
  const after = last(t.events, "config")!.config;
  assert.equal(after.rejected, null);
  assert.equal(after.loadedAt, t.now());
  off();
  t.feed.close();
});

test("the replay starts with hello and keeps at most historyTicks of traffic", () => {
  const t = setUp({ historyTicks: 5 });
  const off = t.listen();
  for (let i = 0; i < 12; i++) {
    t.advance(1000);
    t.feed.tick();
  }
  const replay = t.feed.replay();
  assert.deepEqual(
    replay.map((e) => e.type),
    ["hello", "config", "pools", "queues", "traffic", "traffic", "traffic", "traffic", "traffic"],
  );
  off();
  t.feed.close();
});
