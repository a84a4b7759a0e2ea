import assert from "node:assert/strict";
import { test } from "node:test";
import type { PickerConfigRecord } from "../../src/api/endpoint-picker-config.ts";
import type { PoolRecord } from "../../src/api/inference-pool.ts";
import { isMetricsSource } from "../../src/plugins/capabilities.ts";
import type { Plugin } from "../../src/plugins/registry.ts";
import { sessionTokenFor } from "../../src/scheduling/plugins/scorers/session-affinity-scorer.ts";
import { createPoolScheduler } from "../../src/scheduling/pool-scheduler-factory.ts";
import { seededRng } from "../../src/scheduling/random.ts";

function pool(apiVersion = "inference.networking.k8s.io/v1"): PoolRecord {
  return {
    key: "default/pool",
    name: "pool",
    namespace: "default",
    apiVersion,
    selector: { app: "m" },
    targetPorts: [8000],
    annotations: {},
    useQueueing: false,
    useSchedulerV2: false,
    enginePriority: false,
  };
}

function picker(raw: Record<string, unknown>): PickerConfigRecord {
  return { source: { file: "epp.yaml", line: 1 }, raw };
}

test("the scorer profile's prefix scorer is found by capability: pre-request hook and metrics source", () => {
  let told: readonly Plugin[] = [];
  const s = createPoolScheduler(pool(), [], { rng: seededRng(1), onPlugins: (_pool, p) => (told = p) });
  assert.equal(s.kind, "scorer-profile");
  assert.deepEqual(
    s.preRequestHooks.map((h) => h.type),
    ["expected-ttft-scorer", "prefix-cache-scorer"],
  );
  assert.deepEqual(
    told.filter(isMetricsSource).map((p) => p.type),
    ["prefix-cache-scorer"],
  );
  assert.equal(s.responseHeaders, undefined);
});

test("the legacy tree has no hooks, sources or headers", () => {
  let told: readonly Plugin[] | undefined;
  const s = createPoolScheduler(pool("inference.networking.x-k8s.io/v1alpha2"), [], {
    onPlugins: (_pool, p) => (told = p),
  });
  assert.equal(s.kind, "legacy-decision-tree");
  assert.deepEqual(s.preRequestHooks, []);
  assert.deepEqual(told?.filter(isMetricsSource), []);
  assert.equal(s.responseHeaders, undefined);
});

test("a config's plugins bring their capabilities: session headers, and a prefix scorer declared in no profile", () => {
  const s = createPoolScheduler(pool(), [
    picker({
      plugins: [
        { type: "session-affinity-scorer", parameters: { headerName: "X-Turn" } },
        { type: "queue-scorer" },
        { type: "prefix-cache-scorer" },
        { type: "concurrency-detector" },
      ],
      schedulingProfiles: [
        { name: "p", plugins: [{ pluginRef: "session-affinity-scorer" }, { pluginRef: "queue-scorer" }] },
      ],
    }),
  ]);
  assert.equal(s.kind, "endpoint-picker-config");
  assert.deepEqual(s.responseHeaders?.("10.0.0.1:8000"), { "x-turn": sessionTokenFor("10.0.0.1:8000") });
  assert.deepEqual(
    s.preRequestHooks.map((h) => h.type),
    ["prefix-cache-scorer"],
  );
});

test("a config with only flow control's plugins leaves the built-in scheduler", () => {
  const s = createPoolScheduler(pool(), [
    picker({ plugins: [{ type: "concurrency-detector" }], flowControl: {} }),
  ]);
  assert.equal(s.kind, "scorer-profile");
});
