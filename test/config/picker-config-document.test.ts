// One EndpointPickerConfig on its own (--config-file, a ConfigMap key): exactly one document of
// that kind, checked like a manifest and like a picker configuration, with lines.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIssue } from "../../src/config/config-error.ts";
import { readPickerConfigDocument } from "../../src/config/picker-config-document.ts";

const VALID = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}]
`;

const errorsOf = (text: string) => readPickerConfigDocument("cm key x.yaml", text).errors.map(formatIssue);

test("a valid EndpointPickerConfig is returned decoded", () => {
  const r = readPickerConfigDocument("f.yaml", VALID);
  assert.deepEqual(r.errors, []);
  assert.equal(r.decoded?.doc.kind, "EndpointPickerConfig");
});

test("a plugin of no known type, a profile naming no plugin and bad YAML are errors with lines", () => {
  const [unknownType] = errorsOf(VALID.replace("queue-scorer\n", "queue-scorr\n"));
  assert.match(unknownType!, /^cm key x\.yaml:4: EndpointPickerConfig: plugins\[0\]\.type: .*queue-scorr/);
  assert.match(
    errorsOf(VALID.replace("pluginRef: queue-scorer", "pluginRef: nope"))[0]!,
    /^cm key x\.yaml:7: /,
  );
  assert.match(errorsOf("plugins: [\n")[0]!, /^cm key x\.yaml:\d+: /);
});

test("the text must hold exactly one document, of kind EndpointPickerConfig", () => {
  assert.deepEqual(errorsOf(""), ["cm key x.yaml: holds no EndpointPickerConfig document"]);
  assert.deepEqual(errorsOf(`${VALID}---\n${VALID}`), [
    "cm key x.yaml: must hold one EndpointPickerConfig document (found 2)",
  ]);
  assert.deepEqual(errorsOf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), [
    "cm key x.yaml:2: kind must be EndpointPickerConfig (found 'ConfigMap')",
  ]);
  assert.match(
    errorsOf(VALID.replace("v1alpha1", "v1alpha2"))[0]!,
    /apiVersion: 'inference.networking.x-k8s.io\/v1alpha2' is not a supported apiVersion of EndpointPickerConfig/,
  );
});
