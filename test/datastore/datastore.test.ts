import assert from "node:assert/strict";
import { test } from "node:test";
import type { PoolRecord } from "../../src/api/inference-pool.ts";
import type { ConfigSnapshot } from "../../src/datastore/config-snapshot.ts";
import { Datastore, type EndpointsChange } from "../../src/datastore/datastore.ts";

function pool(name: string, selector: Record<string, string>, targetPorts: number[]): PoolRecord {
  return {
    key: `default/${name}`,
    name,
    namespace: "default",
    apiVersion: "inference.networking.k8s.io/v1",
    selector,
    targetPorts,
    annotations: {},
    useQueueing: false,
    useSchedulerV2: false,
    enginePriority: false,
  };
}

function config(...pools: PoolRecord[]): ConfigSnapshot {
  return {
    pools: new Map(pools.map((p) => [p.key, p])),
    models: new Map(),
    objectives: new Map(),
    rewrites: new Map(),
    gateways: [],
    listeners: [],
    routes: [],
    policies: [],
    pickerConfigs: [],
    ignored: [],
    warnings: [],
  };
}

test("endpoints join the pools whose selector their labels match; no port means the pool's target ports", () => {
  const ds = new Datastore(
    config(pool("a", { app: "qwen" }, [8000, 8001]), pool("b", { app: "llama" }, [9000])),
  );
  ds.apply(ds.config, [
    { host: "10.0.0.1", labels: { app: "qwen", zone: "x" } },
    { host: "10.0.0.2", port: 7000, labels: { app: "qwen" } },
    { host: "10.0.0.3", labels: { app: "other" } },
  ]);
  assert.deepEqual(
    ds.poolEndpoints("default/a").map((s) => s.endpoint.id),
    ["10.0.0.1:8000", "10.0.0.1:8001", "10.0.0.2:7000"],
  );
  assert.deepEqual(ds.poolEndpoints("default/b"), []);
});

test("endpoint state survives a reload; added and removed endpoints are announced", () => {
  const ds = new Datastore(config(pool("a", { app: "qwen" }, [8000])));
  const changes: EndpointsChange[] = [];
  ds.onEndpointsChanged((c) => changes.push(c));
  ds.apply(ds.config, [{ host: "h1", labels: { app: "qwen" } }]);
  const state = ds.endpoint("h1:8000");
  assert.ok(state);
  state.inFlight.requests = 3;
  ds.apply(ds.config, [
    { host: "h1", labels: { app: "qwen" } },
    { host: "h2", labels: { app: "qwen" } },
  ]);
  assert.equal(ds.endpoint("h1:8000"), state);
  assert.equal(ds.candidates("default/a")[0]?.inFlight.requests, 3);
  ds.apply(config(pool("a", { app: "qwen" }, [8000])), [
    { host: "h1", labels: { app: "qwen" } },
    { host: "h2", labels: { app: "qwen" } },
  ]);
  assert.equal(ds.endpoint("h1:8000"), state, "a config swap keeps endpoint state");
  ds.apply(ds.config, [{ host: "h2", labels: { app: "qwen" } }]);
  assert.deepEqual(
    changes.map((c) => [c.added.map((s) => s.endpoint.id), c.removed.map((s) => s.endpoint.id)]),
    [
      [["h1:8000"], []],
      [["h2:8000"], []],
      [[], ["h1:8000"]],
    ],
  );
});

test("candidates are stale when scraped metrics are old; never-scraped counts as fresh until a scraper says otherwise", () => {
  const ds = new Datastore(config(pool("a", { app: "q" }, [1])), { stalenessMs: 100 });
  ds.apply(ds.config, [
    { host: "fresh", labels: { app: "q" } },
    { host: "old", labels: { app: "q" } },
    { host: "never", labels: { app: "q" } },
  ]);
  ds.endpoint("fresh:1")!.metrics.updatedAt = 1000;
  ds.endpoint("old:1")!.metrics.updatedAt = 800;
  const stale = () => ds.candidates("default/a", 1050).map((c) => [c.endpoint.host, c.stale]);
  assert.deepEqual(stale(), [
    ["fresh", false],
    ["old", true],
    ["never", false],
  ]);
  ds.setNeverScrapedIsStale(true);
  assert.deepEqual(stale()[2], ["never", true]);
});

test("an endpoint whose connections fail is left out of candidates for a growing back-off, unless none would remain", () => {
  const ds = new Datastore(config(pool("a", { app: "q" }, [1])));
  ds.apply(ds.config, [
    { host: "up", labels: { app: "q" } },
    { host: "down", labels: { app: "q" } },
  ]);
  const ids = (now: number) => ds.candidates("default/a", now).map((c) => c.endpoint.host);
  ds.markUnreachable("down:1", 10_000);
  assert.deepEqual(ids(10_500), ["up"]);
  assert.deepEqual(ids(11_001), ["up", "down"], "1 s after the first failure");
  ds.markUnreachable("down:1", 11_001);
  assert.deepEqual(ids(12_500), ["up"], "2 s after the second");
  ds.markUnreachable("up:1", 12_500);
  assert.deepEqual(ids(12_600), ["up", "down"], "never an empty list because of back-off");
  ds.markReachable("down:1");
  assert.deepEqual(ids(12_600), ["down"]);
});

test("apply swaps config and endpoints together: every listener sees both halves of the update", () => {
  const ds = new Datastore(config(pool("a", { app: "qwen" }, [8000])));
  ds.apply(ds.config, [{ host: "h1", labels: { app: "qwen" } }]);
  const seen: string[] = [];
  const view = () =>
    `${[...ds.config.pools.keys()].join(",")}|${ds
      .endpoints()
      .map((s) => s.endpoint.id)
      .join(",")}`;
  ds.onConfigChanged(() => seen.push(`config ${view()}`));
  ds.onEndpointsChanged(() => seen.push(`endpoints ${view()}`));
  // The pool is renamed and its endpoint moves port in one update.
  ds.apply(config(pool("b", { app: "qwen" }, [9000])), [{ host: "h1", labels: { app: "qwen" } }]);
  assert.deepEqual(seen, ["config default/b|h1:9000", "endpoints default/b|h1:9000"]);
  seen.length = 0;
  ds.apply(ds.config, [{ host: "h1", labels: { app: "qwen" } }]);
  assert.deepEqual(seen, [], "the same config and endpoints: nothing to announce");
  ds.apply(ds.config, []);
  assert.deepEqual(seen, ["endpoints default/b|"], "an endpoints-only change leaves config listeners alone");
});
