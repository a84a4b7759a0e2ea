// Pods → endpoints: Ready, with a podIP, not deleting, in the pool's namespace and selected by it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConfigSnapshot } from "../../src/datastore/config-snapshot.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { clusterConfig, ObjectDecoder } from "../../src/kube/cluster-config.ts";
import { type PodLike, podEndpoints } from "../../src/kube/pod-endpoints.ts";

/** The snapshot of one v1 InferencePool per [namespace, name] selecting app=qwen on port 8000. */
function config(pools: { name?: string; namespace?: string }[]): ConfigSnapshot {
  const objects = pools.map((p, i) => ({
    apiVersion: "inference.networking.k8s.io/v1",
    kind: "InferencePool",
    metadata: {
      name: p.name ?? "p",
      namespace: p.namespace ?? "default",
      uid: `u${i}`,
      resourceVersion: "1",
    },
    spec: { selector: { matchLabels: { app: "qwen" } }, targetPorts: [{ number: 8000 }] },
  }));
  return clusterConfig(objects, new ObjectDecoder(), { defaultPort: 8081 }).config;
}

const pod = (
  ip: string | undefined,
  over: Partial<{ ns: string; app: string; ready: string; deleting: boolean }> = {},
): PodLike => ({
  metadata: {
    namespace: over.ns ?? "default",
    labels: { app: over.app ?? "qwen", "pod-template-hash": "abc" },
    ...(over.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  status: {
    ...(ip ? { podIP: ip } : {}),
    conditions: [{ type: "Ready", status: over.ready ?? "True" }],
  },
});

test("only Ready Pods with an IP, not deleting, selected by a pool of their namespace", () => {
  const pods = [
    pod("10.0.0.2"),
    pod("10.0.0.1"),
    pod(undefined),
    pod("10.0.0.3", { ready: "False" }),
    pod("10.0.0.4", { deleting: true }),
    pod("10.0.0.5", { app: "other" }),
    pod("10.0.0.6", { ns: "team-b" }),
  ];
  assert.deepEqual(
    podEndpoints(pods, config([{}])).map((e) => e.host),
    ["10.0.0.1", "10.0.0.2"],
  );
});

test("a Pod joins only the pools of its own namespace in the datastore", () => {
  const cfg = config([{ name: "a" }, { name: "b", namespace: "team-b" }]);
  const ds = new Datastore(cfg);
  ds.apply(cfg, podEndpoints([pod("10.0.0.1"), pod("10.0.0.9", { ns: "team-b" })], cfg));
  assert.deepEqual(
    ds.poolEndpoints("default/a").map((s) => s.endpoint.id),
    ["10.0.0.1:8000"],
  );
  assert.deepEqual(
    ds.poolEndpoints("team-b/b").map((s) => s.endpoint.id),
    ["10.0.0.9:8000"],
  );
});

test("a Pod that stays keeps its endpoint state (in-flight counts) across updates", () => {
  const cfg = config([{}]);
  const ds = new Datastore(cfg);
  ds.apply(cfg, podEndpoints([pod("10.0.0.1"), pod("10.0.0.2")], cfg));
  const kept = ds.endpoint("10.0.0.1:8000")!;
  kept.inFlight.requests = 3;
  ds.apply(cfg, podEndpoints([pod("10.0.0.1"), pod("10.0.0.2", { ready: "False" })], cfg));
  assert.equal(ds.endpoint("10.0.0.1:8000"), kept);
  assert.equal(ds.endpoint("10.0.0.1:8000")?.inFlight.requests, 3);
  assert.equal(ds.endpoint("10.0.0.2:8000"), undefined);
});
