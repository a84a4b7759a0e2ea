import assert from "node:assert/strict";
import { test } from "node:test";
import type { PickerConfigRecord } from "../../src/api/endpoint-picker-config.ts";
import type { PoolRecord } from "../../src/api/inference-pool.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { loadConfig } from "../../src/config/file-source.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import { LegacyAdmitter } from "../../src/flowcontrol/legacy-admitter.ts";
import { admissionFingerprint, admitterForPool } from "../../src/flowcontrol/pool-admitter-factory.ts";
import { tempFiles } from "../helpers/temp-dir.ts";
import { candidate } from "./helpers.ts";

function pool(useQueueing: boolean): PoolRecord {
  return {
    key: "default/qwen-pool",
    name: "qwen-pool",
    namespace: "default",
    apiVersion: "inference.networking.x-k8s.io/v1alpha2",
    selector: { app: "qwen" },
    targetPorts: [8000],
    annotations: {},
    useQueueing,
    useSchedulerV2: false,
    enginePriority: false,
  };
}

function picker(raw: Record<string, unknown>): PickerConfigRecord {
  return { source: { file: "epp.yaml", line: 1 }, raw };
}

test("the queueing annotation gives a flow controller; without it, the legacy admitter", () => {
  const candidates = () => [];
  const queued = admitterForPool(pool(true), { candidates });
  const legacy = admitterForPool(pool(false), { candidates });
  assert.ok(queued instanceof FlowController);
  assert.ok(legacy instanceof LegacyAdmitter);
  queued.close();
});

test("a flowControl section turns queueing on and configures it", async () => {
  const admitter = admitterForPool(pool(false), {
    candidates: () => [],
    pickerConfigs: [picker({ plugins: [] }), picker({ flowControl: { maxRequests: 1 } })],
  });
  assert.ok(admitter instanceof FlowController);
  // No endpoints: saturated, so requests wait; the second one finds the queue full.
  const signal = new AbortController().signal;
  const first = admitter.admit({ id: "a", priority: 0, flowId: "f", bytes: 10, signal });
  await assert.rejects(admitter.admit({ id: "b", priority: 0, flowId: "f", bytes: 10, signal }), {
    kind: "queueFull",
  });
  admitter.close();
  await assert.rejects(first, { status: 503 });
});

test("changing the flowControl section changes the admission fingerprint; other picker fields do not", () => {
  const p = pool(true);
  const a = admissionFingerprint(p, [picker({ plugins: [{ type: "queue-scorer" }] })]);
  const b = admissionFingerprint(p, [picker({ plugins: [{ type: "kv-cache-scorer" }] })]);
  const c = admissionFingerprint(p, [picker({ flowControl: { maxRequests: 5 } })]);
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test("a bad flowControl section is a config error with file, line and field", () => {
  const t = tempFiles({
    "epp.yaml": [
      "apiVersion: inference.networking.x-k8s.io/v1alpha1",
      "kind: EndpointPickerConfig",
      "metadata:",
      "  name: epp",
      "flowControl:",
      "  defaultRequestTTL: 30",
      "  priorityBands:",
      "  - priority: 1",
      "    fairnessPolicyRef: fair-share",
      "",
    ].join("\n"),
  });
  try {
    assert.throws(
      () => loadConfig([t.dir], { defaultPort: 9999 }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const ttl = e.issues.find((i) => i.field.includes("defaultRequestTTL"));
        assert.ok(ttl, e.message);
        assert.equal(ttl.line, 6);
        assert.match(ttl.reason, /a duration needs a unit/);
        assert.equal(ttl.object, "EndpointPickerConfig epp");
        return true;
      },
    );
  } finally {
    t.cleanup();
  }
});

test("in an engine-priority pool Critical passes up to saturation 2 (the engine overtakes lower work); Standard's limit is unchanged", async () => {
  // One endpoint with 8 in-flight requests under a concurrency detector of 5: saturation 1.6.
  const busy = { ...candidate("10.0.0.1:8000"), inFlight: { requests: 8, tokens: 0, kvTokens: 0 } };
  const pickerConfigs = [
    picker({
      flowControl: {
        reclaimWindow: 0,
        saturationDetector: { type: "concurrency-detector", parameters: { maxConcurrency: 5 } },
      },
    }),
  ];
  const signal = new AbortController().signal;
  const critical = { id: "c", priority: 1, flowId: "f", bytes: 10, signal };
  const standard = { id: "s", priority: 0, flowId: "f", bytes: 10, signal };
  const engine = admitterForPool(
    { ...pool(true), enginePriority: true },
    { candidates: () => [busy], pickerConfigs },
  );
  const plain = admitterForPool(pool(true), { candidates: () => [busy], pickerConfigs });
  await engine.admit(critical); // at once: 1.6 < 2
  let plainPassed = false;
  const held = plain.admit(critical).then(() => {
    plainPassed = true;
  });
  const heldStandard = engine.admit(standard);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(plainPassed, false, "a plain pool holds Critical at 1.6 (limit 1.25)");
  engine.close();
  plain.close();
  await assert.rejects(heldStandard, { status: 503 }, "Standard waited in the engine-priority pool too");
  await assert.rejects(held, { status: 503 });
});
