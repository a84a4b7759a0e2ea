// The status igw reports: for the Gateways it serves only, other controllers' entries kept, an
// invalid object reported False with its problem, and an unchanged view computes to the status
// already there (so writes settle).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { type ApiObject, clusterConfig, ObjectDecoder } from "../../src/kube/cluster-config.ts";
import { CONTROLLER_NAME, desiredStatuses, type StatusWrite } from "../../src/kube/desired-status.ts";
import { REPO_ROOT } from "../helpers/testenv.ts";

type Obj = ApiObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

function seed(): Obj[] {
  const docs = ["inference-pool.yaml", "inference-gateway.yaml"].flatMap((f) =>
    parseAllDocuments(readFileSync(join(REPO_ROOT, "examples", "seed", f), "utf8")).map(
      (d) => d.toJS() as Obj,
    ),
  );
  return docs
    .filter((d) => d.kind !== "GatewayClass")
    .map((d, i) => ({
      ...d,
      metadata: { namespace: "default", ...d.metadata, uid: `u${i}`, resourceVersion: "1", generation: 1 },
    }));
}

function statuses(objects: Obj[], gatewayClass?: string): StatusWrite[] {
  const built = clusterConfig(objects, new ObjectDecoder(), {
    defaultPort: 8081,
    ...(gatewayClass !== undefined ? { gatewayClass } : {}),
  });
  return desiredStatuses({
    config: built.config,
    verdicts: built.verdicts,
    objects,
    gatewayStatus: true,
    now: "2026-01-01T00:00:00Z",
    ...(gatewayClass !== undefined ? { gatewayClass } : {}),
  });
}

const find = (ws: StatusWrite[], kind: string, name: string) =>
  ws.find((w) => w.kind === kind && w.name === name);

describe("desiredStatuses", () => {
  test("the seed: pool, route and Gateway accepted; models accepted", () => {
    const ws = statuses(seed());
    assert.deepEqual(ws.map((w) => `${w.kind} ${w.name}`).sort(), [
      "Gateway inference-gateway",
      "HTTPRoute llm-route",
      "InferenceModel qwen-model",
      "InferenceModel travel-helper-model",
      "InferencePool qwen-pool",
    ]);
    const route = find(ws, "HTTPRoute", "llm-route")!.status["parents"] as { controllerName: string }[];
    assert.deepEqual(
      route.map((p) => p.controllerName),
      [CONTROLLER_NAME],
    );
  });

  test("with --gateway-class, Gateways of other classes get no status, nor do their routes", () => {
    const objects = seed();
    assert.equal(
      find(statuses(objects, "inference-gateway"), "Gateway", "inference-gateway")?.kind,
      "Gateway",
    );
    const other = statuses(objects, "someone-else");
    assert.equal(find(other, "Gateway", "inference-gateway"), undefined);
    assert.equal(find(other, "HTTPRoute", "llm-route"), undefined);
    assert.equal(find(other, "InferencePool", "qwen-pool"), undefined);
  });

  test("another controller's route entry is kept; the pool's Pending placeholder is replaced", () => {
    const objects = seed().map((o) =>
      o.kind === "HTTPRoute"
        ? {
            ...o,
            status: {
              parents: [
                {
                  controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
                  parentRef: { name: "inference-gateway" },
                  conditions: [],
                },
              ],
            },
          }
        : o.kind === "InferencePool"
          ? { ...o, status: { parent: [{ parentRef: { kind: "Status", name: "default" }, conditions: [] }] } }
          : o,
    );
    const ws = statuses(objects);
    const parents = find(ws, "HTTPRoute", "llm-route")!.status["parents"] as { controllerName: string }[];
    assert.deepEqual(
      parents.map((p) => p.controllerName),
      ["gateway.envoyproxy.io/gatewayclass-controller", CONTROLLER_NAME],
    );
    const pool = find(ws, "InferencePool", "qwen-pool")!.status["parent"] as {
      parentRef: { kind: string };
    }[];
    assert.deepEqual(
      pool.map((p) => p.parentRef.kind),
      ["Gateway"],
    );
  });

  test("an invalid InferenceModel is Accepted=False with its problem", () => {
    const objects: Obj[] = [
      ...seed(),
      {
        apiVersion: "inference.networking.x-k8s.io/v1alpha2",
        kind: "InferenceModel",
        metadata: {
          name: "orphan",
          namespace: "default",
          uid: "orphan",
          resourceVersion: "1",
          generation: 2,
        },
        spec: { modelName: "orphan", poolRef: { name: "nope" } },
      },
    ];
    const [c] = find(statuses(objects), "InferenceModel", "orphan")!.status["conditions"] as {
      status: string;
      reason: string;
      message: string;
      observedGeneration: number;
    }[];
    assert.equal(c?.status, "False");
    assert.equal(c?.reason, "Invalid");
    assert.equal(c?.observedGeneration, 2);
    assert.match(c?.message ?? "", /spec\.poolRef\.name: InferencePool default\/nope is not defined/);
  });

  test("an InferenceModelRewrite is Accepted, or Accepted=False with its problem", () => {
    const rewrite = (name: string, weights: { weight?: number }[]): Obj => ({
      apiVersion: "inference.networking.x-k8s.io/v1alpha2",
      kind: "InferenceModelRewrite",
      metadata: { name, namespace: "default", uid: name, resourceVersion: "1", generation: 1 },
      spec: {
        poolRef: { name: "qwen-pool" },
        rules: [{ targets: weights.map((w, i) => ({ modelRewrite: `m${i}`, ...w })) }],
      },
    });
    const ws = statuses([
      ...seed(),
      rewrite("good", [{ weight: 1 }, { weight: 3 }]),
      rewrite("half", [{ weight: 1 }, {}]),
    ]);
    const conditionOf = (name: string) =>
      (
        find(ws, "InferenceModelRewrite", name)!.status["conditions"] as {
          status: string;
          reason: string;
          message: string;
        }[]
      )[0];
    assert.deepEqual([conditionOf("good")?.status, conditionOf("good")?.reason], ["True", "Accepted"]);
    assert.deepEqual([conditionOf("half")?.status, conditionOf("half")?.reason], ["False", "Invalid"]);
    assert.match(
      conditionOf("half")?.message ?? "",
      /spec\.rules\[0\]\.targets\[1\]\.weight: weights must be set on all targets or on none/,
    );
  });

  test("an unchanged view computes to the status already written (same lastTransitionTime)", () => {
    const objects = seed();
    const first = statuses(objects);
    const written = objects.map((o) => {
      const w = first.find((x) => x.kind === o.kind && x.name === o.metadata?.name);
      return w ? { ...o, status: w.status } : o;
    });
    const built = clusterConfig(written, new ObjectDecoder(), { defaultPort: 8081 });
    const again = desiredStatuses({
      config: built.config,
      verdicts: built.verdicts,
      objects: written,
      gatewayStatus: true,
      now: "2026-06-01T00:00:00Z",
    });
    assert.deepEqual(
      again.map((w) => w.status),
      first.map((w) => w.status),
    );
  });
});
