/**
 * What a new user hit (issue 13, finding 9): typos that silently switched priority off, zod's
 * wording, follow-on errors after one root cause, and an alias bomb. Each case is a manifest a
 * person could write; the assertions are the lines they would read.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, formatIssue } from "../../src/config/config-error.ts";
import { loadConfig } from "../../src/config/file-source.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const POOL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: qwen-pool
  annotations:
    inference-epp-env.networking.x-k8s.io/experimental-use-queueing: "true"
spec:
  selector:
    app: qwen
  targetPortNumber: 8000
`;

const MODEL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata:
  name: qwen-model
spec:
  criticality: Critical
  modelName: qwen
  poolRef:
    name: qwen-pool
  targetModels:
  - name: qwen
    weight: 100
`;

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: llm-route
spec:
  rules:
  - backendRefs:
    - group: inference.networking.x-k8s.io
      kind: InferencePool
      name: qwen-pool
`;

/** Loads `docs` as one file `m.yaml`; returns the warnings, or the error and warning lines. */
function load(...docs: string[]): { errors: string[]; warnings: string[] } {
  const t = tempFiles({ "m.yaml": docs.join("---\n") });
  const short = (s: string) => s.replaceAll(t.path("m.yaml"), "m.yaml");
  try {
    return { errors: [], warnings: loadConfig([t.dir], { defaultPort: 9999 }).warnings.map(short) };
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return {
      errors: e.issues.map((i) => short(formatIssue(i))),
      warnings: e.warnings.map((i) => short(formatIssue(i))),
    };
  } finally {
    t.cleanup();
  }
}

test("a misspelt field is a warning naming file, line and the closest known name", () => {
  const r = load(POOL, MODEL.replace("criticality:", "critcality:"));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, [
    "m.yaml:17: InferenceModel default/qwen-model: spec.critcality is not a known field and is ignored (did you mean 'criticality'?)",
  ]);
});

test("a misspelt queueing annotation is a warning naming the real one", () => {
  const r = load(POOL.replace("experimental-use-queueing", "experimental-use-queuing"), MODEL);
  assert.deepEqual(r.warnings, [
    'm.yaml:6: InferencePool default/qwen-pool: metadata.annotations["inference-epp-env.networking.x-k8s.io/experimental-use-queuing"] ' +
      "is not an annotation the gateway reads and is ignored (did you mean 'inference-epp-env.networking.x-k8s.io/experimental-use-queueing'?)",
  ]);
  // Without the prefix, or with a value that reads as false, it is reported too.
  const bare = load(
    POOL.replace(
      "inference-epp-env.networking.x-k8s.io/experimental-use-queueing",
      "experimental-use-queueing",
    ),
  );
  assert.match(
    bare.warnings[0]!,
    /did you mean 'inference-epp-env.networking.x-k8s.io\/experimental-use-queueing'/,
  );
  const yes = load(POOL.replace('"true"', "yes"));
  assert.match(yes.warnings[0]!, /is 'yes', which reads as false \(only "true" turns it on\)$/);
});

test("a misspelt engine-priority annotation is a warning naming the real one", () => {
  const r = load(
    POOL.replace(
      "    inference-epp-env",
      '    inference-epp-env.networking.x-k8s.io/engine-priorty: "true"\n    inference-epp-env',
    ),
    MODEL,
  );
  assert.deepEqual(r.warnings, [
    'm.yaml:6: InferencePool default/qwen-pool: metadata.annotations["inference-epp-env.networking.x-k8s.io/engine-priorty"] ' +
      "is not an annotation the gateway reads and is ignored (did you mean 'inference-epp-env.networking.x-k8s.io/engine-priority'?)",
  ]);
});

test("an unknown kind in a known group is an error; kinds of other groups are skipped", () => {
  const r = load(POOL, MODEL.replace("kind: InferenceModel", "kind: InferenceModle"));
  assert.deepEqual(r.errors, [
    "m.yaml:13: InferenceModle default/qwen-model: kind: 'InferenceModle' is not a kind of inference.networking.x-k8s.io (did you mean 'InferenceModel'?)",
  ]);
  const skipped = load(POOL, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  assert.deepEqual(skipped.errors, []);
});

test("a misindented weight is found and says where it belongs", () => {
  const r = load(POOL, MODEL.replace("    weight: 100", "  weight: 100"));
  assert.deepEqual(r.warnings, [
    "m.yaml:23: InferenceModel default/qwen-model: spec.weight is not a known field and is ignored (spec.targetModels[].weight is one — is the line indented wrongly?)",
  ]);
});

test("a required field that is misspelt: one error, at the typo, in plain words", () => {
  const r = load(POOL, MODEL.replace("modelName:", "modelNmae:"));
  assert.deepEqual(r.errors, [
    "m.yaml:18: InferenceModel default/qwen-model: spec.modelName is required (found 'modelNmae' — a typo?)",
  ]);
  assert.deepEqual(r.warnings, [], "the typo is not reported a second time");
});

test("one misindented selector gives one error, not follow-on 'pool is not defined' errors", () => {
  const misindented = POOL.replace("  targetPortNumber: 8000\n", "").replace(
    "spec:\n  selector:\n    app: qwen\n",
    "spec:\n  targetPortNumber: 8000\n  extensionRef:\n    name: epp\n    selector:\n      app: qwen\n",
  );
  const r = load(misindented, MODEL, MODEL.replaceAll("qwen-model", "other-model"), ROUTE);
  assert.deepEqual(r.errors, [
    "m.yaml:11: InferencePool default/qwen-pool: spec.selector is required (found at spec.extensionRef.selector — is the line indented wrongly?)",
  ]);
});

test("zod's wording never reaches a user", () => {
  const broken = [
    POOL.replace("8000", "eighty"),
    POOL.replace("8000", "1.5"),
    POOL.replace("8000", "[8000]"),
    POOL.replace("  selector:\n    app: qwen\n", "  selector: []\n"),
    POOL.replace("name: qwen-pool", "name: Qwen_Pool"),
    MODEL.replace("Critical", "critical"),
    MODEL.replace("weight: 100", "weight: 0"),
    MODEL.replace("modelName: qwen", "modelName: ''"),
    MODEL.replace("  targetModels:\n  - name: qwen\n    weight: 100\n", "  targetModels: qwen\n"),
    "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceModel\nmetadata: {name: m}\nspec:\n",
    ROUTE.replace("      name: qwen-pool\n", "      name: qwen-pool\n      weight: -1\n"),
  ];
  for (const doc of broken) {
    const { errors } = load(POOL, doc);
    assert.ok(errors.length > 0, doc);
    for (const e of errors) {
      assert.doesNotMatch(
        e,
        /Invalid input|Invalid option|Too (big|small)|expected \w+, received|Invalid string/,
        e,
      );
      assert.match(e, /^m\.yaml:\d+: /, e);
    }
  }
  assert.deepEqual(load(POOL, MODEL.replace("Critical", "critical")).errors, [
    "m.yaml:17: InferenceModel default/qwen-model: spec.criticality must be one of 'Critical', 'Standard', 'Sheddable' (found 'critical' — did you mean 'Critical'?)",
  ]);
  assert.deepEqual(load(POOL.replace("8000", "1.5")).errors, [
    "m.yaml:10: InferencePool default/qwen-pool: spec.targetPortNumber must be a whole number (found 1.5)",
  ]);
});

test("a YAML alias bomb is refused with file and line, without expanding it", () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
    "",
  ].join("\n");
  const r = load(POOL, bomb);
  assert.deepEqual(r.errors, [
    "m.yaml:13: its aliases expand to too much data (more than 100 expansions): refusing a possible alias bomb",
  ]);
});

test("a file nested too deeply to read is an error, not a crash", () => {
  const r = load(`${"[".repeat(50_000)}${"]".repeat(50_000)}\n`);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /^m\.yaml:\d+: /);
});
