import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { ConfigError, formatIssue } from "../../src/config/config-error.ts";
import { FieldIssueError, formatPath } from "../../src/config/field-issue.ts";
import { loadConfig } from "../../src/config/file-source.ts";
import {
  buildEndpointPickerConfig,
  endpointPickerConfigIssues,
} from "../../src/scheduling/endpoint-picker-config.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import { tempFiles } from "../helpers/temp-dir.ts";
import { candidate, request } from "./fixtures.ts";

function fromYaml(text: string) {
  return buildEndpointPickerConfig(parse(text), { rng: seededRng(1) });
}

/** The first problem of a document: its dotted field and its reason. */
function errorOf(text: string): { field: string; reason: string } {
  try {
    fromYaml(text);
  } catch (e) {
    assert.ok(e instanceof FieldIssueError, String(e));
    return { field: formatPath(e.issues[0]!.path), reason: e.issues[0]!.message };
  }
  assert.fail("expected a FieldIssueError");
}

/** The problems the config loader reports for one file, as users read them. */
function loaderErrors(text: string): string[] {
  const t = tempFiles({ "picker.yaml": text });
  try {
    loadConfig([t.dir], { defaultPort: 9999 });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => formatIssue({ ...i, file: "picker.yaml" }));
  } finally {
    t.cleanup();
  }
  assert.fail("expected a ConfigError");
}

const HEADER = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
`;

const UNKNOWN_TYPE = `${HEADER}plugins:
- type: queue-scorer
- type: magic-scorer
`;
const BAD_PARAMETER = `${HEADER}plugins:
- type: low-queue-filter
  parameters:
    threshold: -3
`;
const BAD_REF = `${HEADER}plugins:
- type: queue-scorer
schedulingProfiles:
- name: p
  plugins:
  - pluginRef: queue-scorer
  - pluginRef: kv-scorer
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

test("errors name the field from the document root", () => {
  const unknownType = errorOf(UNKNOWN_TYPE);
  assert.equal(unknownType.field, "plugins[1].type");
  assert.match(unknownType.reason, /^unknown plugin type "magic-scorer" \(known: .*queue-scorer/);

  const badParam = errorOf(BAD_PARAMETER);
  assert.equal(badParam.field, "plugins[0].parameters.threshold");

  const extraParam = errorOf(`${HEADER}plugins:
- type: queue-scorer
  parameters: {weight: 2}
`);
  assert.equal(extraParam.field, "plugins[0].parameters.weight");
  assert.match(extraParam.reason, /is not a known field/);

  const badRef = errorOf(BAD_REF);
  assert.equal(badRef.field, "schedulingProfiles[0].plugins[1].pluginRef");
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

  const treeRef = errorOf(`${HEADER}plugins:
- type: decision-tree-filter
  parameters:
    current: {pluginRef: later}
`);
  assert.equal(treeRef.field, "plugins[0].parameters.current.pluginRef");
  assert.match(treeRef.reason, /declared before this one/);

  const treeOfDetector = errorOf(`${HEADER}plugins:
- type: utilization-detector
- type: decision-tree-filter
  parameters:
    current: {pluginRef: utilization-detector}
`);
  assert.equal(treeOfDetector.field, "plugins[1].parameters.current.pluginRef");
  assert.match(treeOfDetector.reason, /is a saturation-detector, not a filter/);

  const twoProfiles = errorOf(`${HEADER}plugins: [{type: queue-scorer}]
schedulingProfiles:
- {name: a, plugins: [{pluginRef: queue-scorer}]}
- {name: b, plugins: [{pluginRef: queue-scorer}]}
`);
  assert.match(twoProfiles.reason, /only single-profile-handler/);

  const detectorInProfile = errorOf(`${HEADER}plugins: [{type: queue-scorer}, {type: concurrency-detector}]
schedulingProfiles:
- {name: a, plugins: [{pluginRef: concurrency-detector}]}
`);
  assert.equal(detectorInProfile.field, "schedulingProfiles[0].plugins[0].pluginRef");
  assert.match(detectorInProfile.reason, /\(concurrency-detector\) is not a scheduling plugin/);

  assert.throws(
    () =>
      buildEndpointPickerConfig({
        apiVersion: "inference.networking.x-k8s.io/v1alpha1",
        kind: "EndpointPickerConfig",
        plugins: [],
      }),
    (e: unknown) => e instanceof FieldIssueError && formatPath(e.issues[0]!.path) === "plugins",
  );
});

test("the loader puts file and line on every problem", () => {
  assert.match(
    loaderErrors(UNKNOWN_TYPE)[0]!,
    /^picker\.yaml:5: EndpointPickerConfig: plugins\[1\]\.type: unknown plugin type "magic-scorer" \(known: .*queue-scorer/,
  );
  assert.match(
    loaderErrors(BAD_PARAMETER)[0]!,
    /^picker\.yaml:6: EndpointPickerConfig: plugins\[0\]\.parameters\.threshold: /,
  );
  assert.match(
    loaderErrors(`${HEADER}metadata: {name: epp}\n${BAD_REF.slice(HEADER.length)}`)[0]!,
    /^picker\.yaml:10: EndpointPickerConfig epp: schedulingProfiles\[0\]\.plugins\[1\]\.pluginRef: no plugin named "kv-scorer"/,
  );
});

test("every declaration's problems are reported together", () => {
  const errors = loaderErrors(`${UNKNOWN_TYPE}- type: low-queue-filter
  parameters: {threshold: -3}
`);
  assert.equal(errors.length, 2, errors.join("\n"));
  assert.match(errors[0]!, /^picker\.yaml:5: .*plugins\[1\]\.type: /);
  assert.match(errors[1]!, /^picker\.yaml:7: .*plugins\[2\]\.parameters\.threshold: /);
});

test("a document with only flow control's plugins checks them and leaves scheduling alone", () => {
  const raw = parse(`${HEADER}plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 0}
flowControl: {}
`);
  const issues = endpointPickerConfigIssues(raw);
  assert.deepEqual(
    issues.map((i) => formatPath(i.path)),
    ["plugins[0].parameters.maxConcurrency"],
  );
  assert.deepEqual(
    endpointPickerConfigIssues(parse(`${HEADER}plugins: [{type: concurrency-detector}]\n`)),
    [],
  );
  // One report per problem, though the flow-control section references the plugin too.
  const errors = loaderErrors(`${HEADER}plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 0}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
`);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(
    errors[0]!,
    /^picker\.yaml:5: EndpointPickerConfig: plugins\[0\]\.parameters\.maxConcurrency: /,
  );
});
