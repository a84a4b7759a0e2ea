import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, formatIssue } from "../../src/config/config-error.ts";
import { loadConfig } from "../../src/config/file-source.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const POOL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: p
spec:
  selector:
    app: qwen
  targetPortNumber: 8000
`;

function load(yaml: string) {
  const t = tempFiles({ "m.yaml": yaml });
  try {
    return loadConfig([t.dir], { defaultPort: 9999 });
  } finally {
    t.cleanup();
  }
}

function issuesOf(yaml: string): string[] {
  const t = tempFiles({ "m.yaml": yaml });
  try {
    loadConfig([t.dir], { defaultPort: 9999 });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => formatIssue({ ...i, file: "m.yaml" }));
  } finally {
    t.cleanup();
  }
  assert.fail("expected a ConfigError");
}

test("the seed's manifests load unchanged", () => {
  const c = loadConfig(["examples/seed"], { defaultPort: 9999 });
  const pool = c.pools.get("default/qwen-pool");
  assert.ok(pool);
  assert.deepEqual(pool.selector, { app: "qwen" });
  assert.deepEqual(pool.targetPorts, [8000]);
  assert.equal(pool.useQueueing, true);
  assert.equal(pool.useSchedulerV2, true);
  const models = c.models.get("default/qwen-pool");
  assert.equal(models?.get("qwen")?.priority, 1);
  assert.deepEqual(models?.get("travel-helper")?.targets, [{ name: "travel-helper-v1", weight: 100 }]);
  assert.equal(models?.get("travel-helper")?.criticality, "Standard");
  assert.deepEqual(
    c.listeners.map((l) => [l.key, l.port]),
    [["default/inference-gateway/llm-gw", 8081]],
  );
  assert.equal(c.routes.length, 1);
  assert.deepEqual(c.routes[0]?.listenerKeys, ["default/inference-gateway/llm-gw"]);
  assert.equal(c.policies[0]?.requestTimeoutMs, 24 * 3600 * 1000);
  assert.deepEqual(c.ignored.map((d) => d.kind).sort(), ["Deployment", "GatewayClass", "Service"]);
  assert.deepEqual(c.warnings, []);
});

test("a v1 InferencePool gives one target port per rank and keeps its picker reference", () => {
  const c = load(`apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: v1pool, namespace: ml}
spec:
  selector: {matchLabels: {app: x}}
  targetPorts: [{number: 8000}, {number: 8001}]
  endpointPickerRef: {name: epp, port: {number: 9002}}
`);
  const pool = c.pools.get("ml/v1pool");
  assert.deepEqual(pool?.targetPorts, [8000, 8001]);
  assert.deepEqual(pool?.selector, { app: "x" });
  assert.equal(pool?.endpointPicker?.failureMode, "FailClose");
});

test("schema errors name file, line, field and reason", () => {
  const issues = issuesOf(`${POOL}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata:
  name: m
spec:
  modelName: m
  poolRef: {name: p}
  targetModels:
  - name: a
    weight: 10
  - name: b
`);
  assert.deepEqual(issues, [
    "m.yaml:20: InferenceModel default/m: spec.targetModels[1].weight: weights must be set on all targetModels or on none",
  ]);
});

test("a missing required field points at its parent's key", () => {
  const issues = issuesOf(`apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: p
spec:
  selector:
    app: qwen
`);
  assert.equal(issues.length, 1);
  assert.deepEqual(issues, ["m.yaml:5: InferencePool default/p: spec.targetPortNumber is required"]);
});

test("wrong types, unknown apiVersions, YAML syntax and dangling references are all reported", () => {
  assert.match(
    issuesOf(POOL.replace("8000", '"eight"'))[0]!,
    /^m\.yaml:8: InferencePool default\/p: spec\.targetPortNumber must be a number \(found 'eight'\)$/,
  );
  assert.match(
    issuesOf(POOL.replace("v1alpha2", "v9"))[0]!,
    /^m\.yaml:1: InferencePool default\/p: apiVersion: 'inference.networking.x-k8s.io\/v9' is not a supported apiVersion of InferencePool \(supported: .* — did you mean 'inference.networking.x-k8s.io\/v1alpha2'\?\)/,
  );
  assert.match(issuesOf("a: [1, 2\n")[0]!, /^m\.yaml:\d+: /);
  const dangling = issuesOf(`apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec:
  modelName: m
  poolRef:
    name: missing
`);
  assert.deepEqual(dangling, [
    "m.yaml:7: InferenceModel default/m: spec.poolRef.name: InferencePool default/missing is not defined",
  ]);
});

test("a route to an unknown pool or listener is an error", () => {
  const issues = issuesOf(`${POOL}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g}
spec:
  gatewayClassName: c
  listeners: [{name: web, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: g, sectionName: nope}]
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: other}]
`);
  assert.deepEqual(issues, [
    "m.yaml:21: HTTPRoute default/r: spec.parentRefs[0].sectionName: Gateway default/g has no such listener",
    "m.yaml:23: HTTPRoute default/r: spec.rules[0].backendRefs[0].name: InferencePool default/other is not defined",
  ]);
});

test("modelName is unique per pool: the oldest InferenceModel wins, the other is reported", () => {
  const model = (name: string, ts: string, target: string) => `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: ${name}, creationTimestamp: "${ts}"}
spec:
  modelName: shared
  poolRef: {name: p}
  targetModels: [{name: ${target}}]
`;
  const c = load(
    POOL + model("newer", "2025-02-01T00:00:00Z", "b") + model("older", "2025-01-01T00:00:00Z", "a"),
  );
  assert.deepEqual(c.models.get("default/p")?.get("shared")?.targets, [{ name: "a", weight: 1 }]);
  assert.equal(c.warnings.length, 1);
  assert.match(
    c.warnings[0]!,
    /m\.yaml:14: InferenceModel default\/newer: spec\.modelName is not accepted \(ModelNameInUse\): 'shared' is already served in pool default\/p by the older InferenceModel default\/older$/,
  );
});

test("without Gateway and HTTPRoute, one pool gets an implicit catch-all route on the default port", () => {
  const c = load(POOL);
  assert.deepEqual(
    c.listeners.map((l) => l.port),
    [9999],
  );
  assert.equal(c.routes.length, 1);
  assert.deepEqual(c.routes[0]?.rules[0]?.backends, [{ poolKey: "default/p", weight: 1 }]);
});

test("InferenceObjective and EndpointPickerConfig documents are read", () => {
  const c = load(`${POOL}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec:
  priority: -5
  poolRef: {name: p}
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}]
`);
  assert.equal(c.objectives.get("default/p")?.get("batch")?.priority, -5);
  assert.equal(c.pickerConfigs.length, 1);
  assert.deepEqual(c.pickerConfigs[0]?.raw["plugins"], [{ type: "queue-scorer" }]);
  assert.equal(c.pickerConfigs[0]?.source.line, 17);
});

test("a RegularExpression that is not RE2 (backreference, lookahead) is an error with file and line", () => {
  const route = (value: string) => `${POOL}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: p}]
    matches:
    - headers: [{type: RegularExpression, name: x, value: '${value}'}]
`;
  assert.deepEqual(issuesOf(route("(a)\\1")), [
    "m.yaml:17: HTTPRoute default/r: spec.rules[0].matches[0].headers[0].value is not a valid RE2 regular expression: invalid escape sequence: `\\1`",
  ]);
  assert.match(issuesOf(route("(?=a)b"))[0]!, /^m\.yaml:17: .*invalid or unsupported Perl syntax: `\(\?=`$/);
  assert.equal(
    load(route("(?P<v>[a-z]+)-v[0-9]+")).routes.length,
    1,
    "RE2 syntax JavaScript lacks is accepted",
  );
});

test("InferenceModelRewrite rules: exact matches beat generic rules, then the oldest object, then rule order", () => {
  const rewrite = (name: string, ts: string, rules: string) => `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: ${name}, creationTimestamp: "${ts}"}
spec:
  poolRef: {name: p}
  rules:
${rules}`;
  const c = load(
    POOL +
      rewrite(
        "newer",
        "2025-02-01T00:00:00Z",
        "  - matches: [{model: {value: qwen}}]\n    targets: [{modelRewrite: qwen-v2}]\n" +
          "  - targets: [{modelRewrite: fallback-new}]\n",
      ) +
      rewrite(
        "older",
        "2025-01-01T00:00:00Z",
        "  - targets: [{modelRewrite: fallback-old}]\n" +
          "  - matches: [{model: {value: qwen}}, {model: {type: Exact, value: q}}]\n" +
          "    targets: [{modelRewrite: qwen-v1, weight: 9}, {modelRewrite: qwen-v2, weight: 1}]\n" +
          "  - matches: [{model: {value: qwen}}]\n    targets: [{modelRewrite: never}]\n",
      ),
  );
  const table = c.rewrites.get("default/p");
  assert.deepEqual(table?.exact.get("qwen")?.targets, [
    { name: "qwen-v1", weight: 9 },
    { name: "qwen-v2", weight: 1 },
  ]);
  assert.equal(table?.exact.get("q"), table?.exact.get("qwen"));
  assert.deepEqual(table?.generic?.targets, [{ name: "fallback-old", weight: 1 }]);
  assert.equal(table?.generic?.rewriteKey, "default/older");
});

test("an InferenceModelRewrite with some weights unset, or naming no pool, is an error with file and line", () => {
  assert.deepEqual(
    issuesOf(`${POOL}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: half}
spec:
  poolRef: {name: p}
  rules:
  - targets: [{modelRewrite: a, weight: 1}, {modelRewrite: b}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: lost}
spec:
  poolRef: {name: nope}
  rules: []
`),
    [
      "m.yaml:16: InferenceModelRewrite default/half: spec.rules[0].targets[1].weight: weights must be set on all targets or on none",
      "m.yaml:22: InferenceModelRewrite default/lost: spec.poolRef.name: InferencePool default/nope is not defined",
    ],
  );
});
