import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelRecord } from "../../src/api/inference-model.ts";
import { type PoolRewrites, poolRewrites } from "../../src/api/inference-model-rewrite.ts";
import type { ConfigSnapshot } from "../../src/datastore/config-snapshot.ts";
import { GatewayError } from "../../src/errors.ts";
import { parseRequest } from "../../src/requestcontrol/parse-request.ts";
import { buildFlowRequest, buildSchedulingRequest } from "../../src/requestcontrol/request-facts.ts";
import { drawTarget, resolveModel } from "../../src/requestcontrol/resolve-model.ts";

const travel: ModelRecord = {
  key: "default/travel",
  name: "travel",
  namespace: "default",
  modelName: "travel-helper",
  poolKey: "default/p",
  criticality: "Sheddable",
  priority: -1,
  targets: [
    { name: "travel-helper-v1", weight: 90 },
    { name: "travel-helper-v2", weight: 10 },
  ],
};

function config(models: ModelRecord[], rewrites?: PoolRewrites): ConfigSnapshot {
  return {
    rewrites: new Map(rewrites ? [["default/p", rewrites]] : []),
    pools: new Map(),
    models: new Map(models.length ? [["default/p", new Map(models.map((m) => [m.modelName, m]))]] : []),
    objectives: new Map([
      [
        "default/p",
        new Map([
          [
            "batch",
            { key: "default/batch", name: "batch", namespace: "default", poolKey: "default/p", priority: 7 },
          ],
        ]),
      ],
    ]),
    gateways: [],
    listeners: [],
    routes: [],
    policies: [],
    pickerConfigs: [],
    ignored: [],
    warnings: [],
  };
}

test("the weighted draw follows the target weights", () => {
  assert.equal(
    drawTarget(travel, () => 0),
    "travel-helper-v1",
  );
  assert.equal(
    drawTarget(travel, () => 0.89),
    "travel-helper-v1",
  );
  assert.equal(
    drawTarget(travel, () => 0.91),
    "travel-helper-v2",
  );
  assert.equal(drawTarget({ ...travel, targets: [] }), "travel-helper");
});

test("an InferenceModel gives the target and its criticality as priority; an objective header overrides it", () => {
  const c = config([travel]);
  const r = resolveModel(c, "default/p", "travel-helper", {}, () => 0.95);
  assert.deepEqual([r.targetModel, r.priority, r.source], ["travel-helper-v2", -1, "InferenceModel"]);
  const o = resolveModel(
    c,
    "default/p",
    "travel-helper",
    { "x-gateway-inference-objective": "batch" },
    () => 0,
  );
  assert.deepEqual(
    [o.targetModel, o.priority, o.source, o.objective],
    ["travel-helper-v1", 7, "InferenceObjective", "batch"],
  );
  const unknownObjective = resolveModel(c, "default/p", "travel-helper", {
    "x-gateway-inference-objective": "nope",
  });
  assert.equal(unknownObjective.priority, -1);
});

test("a pool with InferenceModels refuses other names with 404; a pool without passes model through", () => {
  assert.throws(
    () => resolveModel(config([travel]), "default/p", "gpt-4", {}),
    (e: unknown) =>
      e instanceof GatewayError && e.status === 404 && e.toJSON().error.code === "model_not_found",
  );
  const r = resolveModel(config([]), "default/p", "anything", {});
  assert.deepEqual([r.targetModel, r.priority, r.source], ["anything", 0, "passthrough"]);
});

test("request facts: flow id from the fairness header, else the client's model; token estimate from text", () => {
  const parsed = parseRequest(
    { method: "POST", url: "/v1/completions", headers: {} },
    Buffer.from('{"model":"travel-helper","prompt":"12345678"}'),
    "r-1",
  );
  const r = resolveModel(config([travel]), "default/p", "travel-helper", {}, () => 0);
  const signal = new AbortController().signal;
  assert.equal(buildFlowRequest(parsed, r, signal).flowId, "travel-helper");
  const withTenant = {
    ...parsed,
    headers: { ...parsed.headers, "x-gateway-inference-fairness-id": "tenant-a" },
  };
  assert.equal(buildFlowRequest(withTenant, r, signal).flowId, "tenant-a");
  const s = buildSchedulingRequest(parsed, r, true);
  assert.deepEqual(
    [s.targetModel, s.isAdapter, s.priority, s.promptTokens],
    ["travel-helper-v1", true, -1, 2],
  );
});

test("an InferenceModelRewrite rule takes the place of targetModels and makes its model names known", () => {
  const rewrites = poolRewrites([
    {
      key: "default/canary",
      poolKey: "default/p",
      rules: [
        {
          rewriteKey: "default/canary",
          models: ["travel-helper", "travel"],
          targets: [
            { name: "travel-helper-v3", weight: 1 },
            { name: "travel-helper-v4", weight: 3 },
          ],
        },
        { rewriteKey: "default/canary", models: ["as-is"], targets: [] },
      ],
    },
  ]);
  const c = config([travel], rewrites);
  const low = resolveModel(c, "default/p", "travel-helper", {}, () => 0.2);
  assert.deepEqual(
    [low.targetModel, low.priority, low.source, low.rewrite?.rewriteKey],
    ["travel-helper-v3", -1, "InferenceModel", "default/canary"],
  );
  assert.equal(resolveModel(c, "default/p", "travel-helper", {}, () => 0.3).targetModel, "travel-helper-v4");
  const alias = resolveModel(c, "default/p", "travel", {}, () => 0.99);
  assert.deepEqual([alias.targetModel, alias.source, alias.priority], ["travel-helper-v4", "passthrough", 0]);
  assert.equal(resolveModel(c, "default/p", "as-is", {}).targetModel, "as-is");
  assert.throws(() => resolveModel(c, "default/p", "gpt-4", {}), GatewayError);
});

test("a rule without matches rewrites every model name the exact rules do not", () => {
  const rewrites = poolRewrites([
    {
      key: "default/all",
      poolKey: "default/p",
      rules: [{ rewriteKey: "default/all", models: [], targets: [{ name: "base", weight: 1 }] }],
    },
  ]);
  const c = config([], rewrites);
  assert.equal(resolveModel(c, "default/p", "anything", {}).targetModel, "base");
  assert.equal(resolveModel(config([]), "default/p", "anything", {}).targetModel, "anything");
});
