// Cluster objects → one snapshot of the valid ones: an invalid object (schema or reference) is
// left out with its located problems and the others are applied; the signature follows content,
// not server bookkeeping.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { type ApiObject, clusterConfig, ObjectDecoder } from "../../src/kube/cluster-config.ts";
import { REPO_ROOT } from "../helpers/testenv.ts";

let uid = 0;
/** A seed document as the API server returns it: namespace, uid, resourceVersion, generation. */
function served(doc: Record<string, unknown>, rv = "1"): ApiObject & Record<string, unknown> {
  const metadata = doc["metadata"] as Record<string, unknown>;
  return {
    ...doc,
    metadata: {
      namespace: "default",
      ...metadata,
      uid: `uid-${++uid}`,
      resourceVersion: rv,
      generation: 1,
      creationTimestamp: `2026-01-01T00:00:${String(uid).padStart(2, "0")}Z`,
    },
  };
}

const seed = (): (ApiObject & Record<string, unknown>)[] =>
  ["inference-pool.yaml", "inference-gateway.yaml"]
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(REPO_ROOT, "examples", "seed", f), "utf8")).map(
        (d) => d.toJS() as Record<string, unknown>,
      ),
    )
    .filter((d) => d["kind"] !== "GatewayClass")
    .map((d) => served(d));

const model = (name: string, pool: string) =>
  served({
    apiVersion: "inference.networking.x-k8s.io/v1alpha2",
    kind: "InferenceModel",
    metadata: { name },
    spec: { modelName: name, poolRef: { name: pool } },
  });

describe("clusterConfig", () => {
  test("the seed's objects give its pool, models, Gateway listener and route", () => {
    const built = clusterConfig(seed(), new ObjectDecoder(), { defaultPort: 8081 });
    assert.deepEqual([...built.config.pools.keys()], ["default/qwen-pool"]);
    assert.deepEqual([...(built.config.models.get("default/qwen-pool")?.keys() ?? [])].sort(), [
      "qwen",
      "travel-helper",
    ]);
    assert.deepEqual(
      built.config.listeners.map((l) => l.port),
      [8081],
    );
    assert.deepEqual(
      built.config.routes.map((r) => r.key),
      ["default/llm-route"],
    );
    assert.ok(built.verdicts.every((v) => v.errors.length === 0));
  });

  test("an object with a dangling reference is left out, located on its ref; the rest applies", () => {
    const orphan = model("orphan", "no-such-pool");
    const built = clusterConfig([...seed(), orphan], new ObjectDecoder(), { defaultPort: 8081 });
    const verdict = built.verdicts.find((v) => v.ref.name === "orphan");
    assert.ok(verdict);
    assert.equal(verdict.errors.length, 1);
    assert.equal(verdict.errors[0]?.field, "spec.poolRef.name");
    assert.match(verdict.errors[0]?.reason ?? "", /InferencePool default\/no-such-pool is not defined/);
    assert.equal(verdict.errors[0]?.ref?.uid, orphan.metadata?.uid);
    assert.equal(built.config.models.get("default/qwen-pool")?.has("orphan"), false);
    assert.equal(built.config.models.get("default/qwen-pool")?.has("qwen"), true);
  });

  test("an object that fails its schema is left out; references to it raise nothing more", () => {
    const objects = seed();
    const pool = objects.find((o) => o.kind === "InferencePool")!;
    (pool as { spec: Record<string, unknown> }).spec["targetPortNumber"] = "eight thousand";
    const built = clusterConfig(objects, new ObjectDecoder(), { defaultPort: 8081 });
    assert.equal(built.config.pools.size, 0);
    const bad = built.verdicts.filter((v) => v.errors.length > 0);
    assert.deepEqual(
      bad.map((v) => `${v.label}: ${v.errors[0]?.field}`),
      ["InferencePool default/qwen-pool: spec.targetPortNumber"],
    );
  });

  test("a second pool of the same namespace/name (other version) is rejected, the older kept", () => {
    const older = seed();
    const v1 = served({
      apiVersion: "inference.networking.k8s.io/v1",
      kind: "InferencePool",
      metadata: { name: "qwen-pool" },
      spec: { selector: { matchLabels: { app: "other" } }, targetPorts: [{ number: 9000 }] },
    });
    const built = clusterConfig([v1, ...older], new ObjectDecoder(), { defaultPort: 8081 });
    assert.deepEqual(built.config.pools.get("default/qwen-pool")?.targetPorts, [8000]);
    const rejected = built.verdicts.filter((v) => v.errors.length > 0).map((v) => v.ref.apiVersion);
    assert.deepEqual(rejected, ["inference.networking.k8s.io/v1"]);
  });

  test("the signature ignores resourceVersion and status, and follows spec and annotations", () => {
    const decoder = new ObjectDecoder();
    const objects = seed();
    const first = clusterConfig(objects, decoder, { defaultPort: 8081 }).signature;
    const touched = objects.map((o) => ({
      ...o,
      metadata: { ...o.metadata, resourceVersion: "99" },
      status: { conditions: [] },
    }));
    assert.equal(clusterConfig(touched, decoder, { defaultPort: 8081 }).signature, first);
    const edited = touched.map((o) =>
      o.kind === "InferencePool"
        ? { ...o, metadata: { ...o.metadata, resourceVersion: "100", annotations: {} } }
        : o,
    );
    assert.notEqual(clusterConfig(edited, decoder, { defaultPort: 8081 }).signature, first);
  });

  test("InferenceModelRewrites are applied by creationTimestamp; an invalid one is left out with its problem", () => {
    const rewrite = (name: string, target: string, weights = true) =>
      served({
        apiVersion: "inference.networking.x-k8s.io/v1alpha2",
        kind: "InferenceModelRewrite",
        metadata: { name },
        spec: {
          poolRef: { name: "qwen-pool" },
          rules: [
            {
              matches: [{ model: { value: "qwen" } }],
              targets: [
                { modelRewrite: target, weight: 1 },
                weights
                  ? { modelRewrite: "b", weight: 1 }
                  : {
                      modelRewrite: "b",
                    },
              ],
            },
          ],
        },
      });
    const older = rewrite("older", "qwen-old");
    const newer = rewrite("newer", "qwen-new");
    const broken = rewrite("broken", "x", false);
    const built = clusterConfig([broken, newer, ...seed(), older], new ObjectDecoder(), {
      defaultPort: 8081,
    });
    const rule = built.config.rewrites.get("default/qwen-pool")?.exact.get("qwen");
    assert.deepEqual([rule?.rewriteKey, rule?.targets[0]?.name], ["default/older", "qwen-old"]);
    const bad = built.verdicts.find((v) => v.ref.name === "broken");
    assert.deepEqual(
      bad?.errors.map((e) => `${e.field}: ${e.reason}`),
      ["spec.rules[0].targets[1].weight: weights must be set on all targets or on none"],
    );
    assert.deepEqual(built.ignored, []);
  });
});
