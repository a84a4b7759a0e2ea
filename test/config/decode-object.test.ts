/**
 * Decoding per object takes `{object, origin}`: an object from an API server gets the same
 * validation and messages as a file's, located by its object reference instead of a line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assembleConfig } from "../../src/config/build-config.ts";
import { formatIssue } from "../../src/config/config-error.ts";
import { type DecodedObject, decodeObject } from "../../src/config/decode-object.ts";
import type { ObjectRef } from "../../src/config/origin.ts";

function ref(kind: string, name: string, resourceVersion = "7"): ObjectRef {
  return {
    apiVersion: "inference.networking.x-k8s.io/v1alpha2",
    kind,
    namespace: "ml",
    name,
    uid: `uid-${name}`,
    resourceVersion,
  };
}

/** As an API server returns it: status, managedFields, uid and resourceVersion included. */
function apiPool(name: string, spec: Record<string, unknown>) {
  return {
    object: {
      apiVersion: "inference.networking.x-k8s.io/v1alpha2",
      kind: "InferencePool",
      metadata: {
        name,
        namespace: "ml",
        uid: `uid-${name}`,
        resourceVersion: "7",
        generation: 2,
        creationTimestamp: "2026-01-01T00:00:00Z",
        managedFields: [{ manager: "kubectl", operation: "Apply" }],
      },
      spec,
      status: { parent: [] },
    },
    origin: { ref: ref("InferencePool", name) },
  };
}

function apiModel(name: string, spec: Record<string, unknown>) {
  return {
    object: {
      apiVersion: "inference.networking.x-k8s.io/v1alpha2",
      kind: "InferenceModel",
      metadata: { name, namespace: "ml", uid: `uid-${name}`, resourceVersion: "9" },
      spec,
    },
    origin: { ref: ref("InferenceModel", name, "9") },
  };
}

test("an API-server object decodes without warnings about the fields the server adds", () => {
  const r = decodeObject(apiPool("p", { selector: { app: "q" }, targetPortNumber: 8000 }));
  assert.equal(r.status, "valid");
  assert.deepEqual(r.warnings, []);
});

test("an API-server object gets the same errors as a file, located by its reference", () => {
  const r = decodeObject(apiModel("m", { modelNmae: "qwen", poolRef: { name: "p" } }));
  assert.equal(r.status, "invalid");
  if (r.status !== "invalid") return;
  assert.equal(r.errors.length, 1);
  const issue = r.errors[0]!;
  assert.deepEqual(issue.ref, ref("InferenceModel", "m", "9"));
  assert.equal(issue.field, "spec.modelName");
  assert.equal(issue.reason, "is required (found 'modelNmae' — a typo?)");
  assert.equal(
    formatIssue(issue),
    "InferenceModel ml/m (resourceVersion 9): spec.modelName is required (found 'modelNmae' — a typo?)",
  );
  const warned = decodeObject(
    apiModel("m", { modelName: "q", critcality: "Critical", poolRef: { name: "p" } }),
  );
  assert.equal(warned.status, "valid");
  assert.deepEqual(
    warned.warnings.map((w) => [w.ref?.name, w.field, w.reason]),
    [["m", "spec.critcality", "is not a known field and is ignored (did you mean 'criticality'?)"]],
  );
});

test("assembling valid objects leaves out what references an invalid one, without follow-on errors", () => {
  const bad = decodeObject(apiPool("p", { selector: [], targetPortNumber: 8000 }));
  assert.equal(bad.status, "invalid");
  const label = bad.status === "invalid" ? bad.label : undefined;
  assert.equal(label, "InferencePool ml/p");
  const good = decodeObject(apiPool("other", { selector: { app: "o" }, targetPortNumber: 8000 }));
  const model = decodeObject(apiModel("m", { modelName: "q", poolRef: { name: "p" } }));
  const orphan = decodeObject(apiModel("n", { modelName: "r", poolRef: { name: "gone" } }));
  const decoded = [good, model, orphan].flatMap((r) =>
    r.status === "valid" ? [r.decoded] : [],
  ) as DecodedObject[];
  const a = assembleConfig(decoded, { defaultPort: 8081 }, { invalid: new Set([label!]) });
  assert.deepEqual([...a.config.pools.keys()], ["ml/other"]);
  assert.equal(a.config.models.size, 0, "the model of the invalid pool is left out");
  assert.deepEqual(
    a.errors.map((e) => [e.ref?.name, e.field, e.reason]),
    [["n", "spec.poolRef.name", "InferencePool ml/gone is not defined"]],
    "only the reference to a pool that does not exist at all is an error",
  );
});
