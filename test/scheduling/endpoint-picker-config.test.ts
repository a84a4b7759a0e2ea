import assert from "node:assert/strict";
import { test } from "node:test";
import { LineCounter, parseDocument } from "yaml";
import {
  buildEndpointPickerConfig,
  EndpointPickerConfigError,
  yamlLocator,
} from "../../src/scheduling/endpoint-picker-config.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import { candidate, request } from "./fixtures.ts";

function fromYaml(text: string, file = "picker.yaml") {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return buildEndpointPickerConfig(doc.toJS(), {
    rng: seededRng(1),
    source: { file, locate: yamlLocator(doc, lineCounter) },
  });
}

function errorOf(text: string): EndpointPickerConfigError {
  try {
    fromYaml(text);
  } catch (e) {
    assert.ok(e instanceof EndpointPickerConfigError, String(e));
    return e;
  }
  assert.fail("expected an EndpointPickerConfigError");
}

const HEADER = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
`;

test("a profile with weights, a picker with fallbacks and a parameterised filter", () => {
  const built = fromYaml(`${HEADER}plugins:
- type: low-queue-filter
  parameters:
    threshold: 10
- type: queue-scorer
- name: kv
  type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
  parameters:
    hashBlockSize: 32
- type: max-score-picker
  parameters:
    maxNumOfEndpoints: 2
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: low-queue-filter
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv
    weight: 0.5
  - pluginRef: prefix-cache-scorer
    weight: 3
  - pluginRef: max-score-picker
`);
  const [p] = built.profiles;
  assert.equal(p!.name, "default");
  assert.deepEqual(
    p!.filters.map((f) => f.name),
    ["low-queue-filter"],
  );
  assert.deepEqual(
    p!.scorers.map((s) => [s.scorer.name, s.weight]),
    [
      ["queue-scorer", 2],
      ["kv", 0.5],
      ["prefix-cache-scorer", 3],
    ],
  );
  assert.deepEqual(
    built.preRequestHooks.map((h) => h.name),
    ["prefix-cache-scorer"],
  );
  // It runs: the filter drops the queue of 10, the picker returns 2.
  const s = new ProfileScheduler({ profiles: built.profiles, preRequestHooks: built.preRequestHooks });
  const cs = [candidate({ waiting: 10 }), candidate({ waiting: 1 }), candidate({ waiting: 2 })];
  assert.deepEqual(
    s.schedule(request(), cs).endpoints.map((c) => c.endpoint.id),
    [cs[1]!, cs[2]!].map((c) => c.endpoint.id),
  );
});

test("defaults: no profiles → one default profile with every plugin, weight 1, max-score picker", () => {
  const built = fromYaml(`${HEADER}plugins:
- type: queue-scorer
- type: least-queue-filter
`);
  const [p] = built.profiles;
  assert.equal(built.profiles.length, 1);
  assert.equal(p!.name, "default");
  assert.deepEqual(
    p!.scorers.map((s) => s.weight),
    [1],
  );
  assert.equal(p!.filters.length, 1);
  assert.equal(p!.picker.type, "max-score-picker");
});

test("legacy decision tree by config, and a custom tree from declared filters", () => {
  const legacy = fromYaml(`${HEADER}plugins:
- type: legacy-decision-tree-filter
  parameters:
    queueThresholdCritical: 2
- type: random-picker
`);
  const s = new ProfileScheduler({ profiles: legacy.profiles });
  assert.deepEqual(s.schedule(request({ priority: 0 }), [candidate({ waiting: 3 })]).endpoints, []);
  const custom = fromYaml(`${HEADER}plugins:
- type: low-queue-filter
  parameters: {threshold: 4}
- type: least-kv-cache-filter
- name: tree
  type: decision-tree-filter
  parameters:
    current: {pluginRef: low-queue-filter}
    nextOnSuccess: {pluginRef: least-kv-cache-filter}
schedulingProfiles:
- name: p
  plugins: [{pluginRef: tree}]
`);
  const cs = [
    candidate({ waiting: 5 }),
    candidate({ waiting: 1, kvCacheUsage: 0.9 }),
    candidate({ waiting: 2, kvCacheUsage: 0.1 }),
  ];
  assert.deepEqual(custom.profiles[0]!.filters[0]!.filter(request(), cs), [cs[2]]);
});

test("errors name the file, the line and the field", () => {
  const unknownType = errorOf(`${HEADER}plugins:
- type: queue-scorer
- type: magic-scorer
`);
  assert.equal(unknownType.field, "plugins[1].type");
  assert.equal(unknownType.line, 5);
  assert.match(
    unknownType.message,
    /^picker\.yaml:5: EndpointPickerConfig plugins\[1\]\.type: unknown plugin type "magic-scorer" \(known: .*queue-scorer/,
  );

  const badParam = errorOf(`${HEADER}plugins:
- type: low-queue-filter
  parameters:
    threshold: -3
`);
  assert.equal(badParam.field, "plugins[0].parameters.threshold");
  assert.equal(badParam.line, 6);

  const extraParam = errorOf(`${HEADER}plugins:
- type: queue-scorer
  parameters: {weight: 2}
`);
  assert.match(extraParam.message, /plugins\[0\]\.parameters: .*weight/);

  const badRef = errorOf(`${HEADER}plugins:
- type: queue-scorer
schedulingProfiles:
- name: p
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: kv-scorer
`);
  assert.equal(badRef.field, "schedulingProfiles[0].plugins[1].pluginRef");
  assert.equal(badRef.line, 9);
  assert.match(badRef.reason, /no plugin named "kv-scorer" \(declared: queue-scorer\)/);

  const weightOnPicker = errorOf(`${HEADER}plugins:
- type: random-picker
schedulingProfiles:
- name: p
  plugins: [{pluginRef: random-picker, weight: 2}]
`);
  assert.match(weightOnPicker.reason, /weight applies to scorers only/);

  const twoPickers = errorOf(`${HEADER}plugins:
- type: random-picker
- type: max-score-picker
schedulingProfiles:
- name: p
  plugins: [{pluginRef: random-picker}, {pluginRef: max-score-picker}]
`);
  assert.match(twoPickers.reason, /one picker/);

  const dup = errorOf(`${HEADER}plugins:
- type: queue-scorer
- type: queue-scorer
`);
  assert.match(dup.reason, /duplicate plugin name "queue-scorer"/);

  const wrongVersion = errorOf(`apiVersion: inference.networking.x-k8s.io/v1
kind: EndpointPickerConfig
plugins: [{type: queue-scorer}]
`);
  assert.equal(wrongVersion.field, "apiVersion");
  assert.equal(wrongVersion.line, 1);

  const treeRef = errorOf(`${HEADER}plugins:
- type: decision-tree-filter
  parameters:
    current: {pluginRef: later}
`);
  assert.equal(treeRef.field, "plugins[0].parameters.current.pluginRef");
  assert.match(treeRef.reason, /declared before this one/);

  const twoProfiles = errorOf(`${HEADER}plugins: [{type: queue-scorer}]
schedulingProfiles:
- {name: a, plugins: [{pluginRef: queue-scorer}]}
- {name: b, plugins: [{pluginRef: queue-scorer}]}
`);
  assert.match(twoProfiles.reason, /only single-profile-handler/);
});

test("without a source, errors still name the field", () => {
  assert.throws(
    () =>
      buildEndpointPickerConfig({
        apiVersion: "inference.networking.x-k8s.io/v1alpha1",
        kind: "EndpointPickerConfig",
        plugins: [],
      }),
    (e: unknown) => e instanceof EndpointPickerConfigError && e.field === "plugins" && e.file === undefined,
  );
});
