import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_BAND_MAX_BYTES, parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowControlConfigError } from "../../src/flowcontrol/config-issues.ts";

function issues(raw: unknown, plugins = []): string[] {
  try {
    parseFlowControl(raw, plugins);
  } catch (e) {
    assert.ok(e instanceof FlowControlConfigError);
    return e.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  }
  assert.fail("expected a FlowControlConfigError");
}

test("an absent section gives the Inference Extension defaults", () => {
  const s = parseFlowControl(undefined);
  assert.equal(s.maxBytes, 0);
  assert.equal(s.maxRequests, 0);
  assert.equal(s.defaultRequestTTLMs, 0);
  assert.equal(s.defaultBand.maxBytes, DEFAULT_BAND_MAX_BYTES);
  assert.equal(s.defaultBand.maxRequests, 0);
  assert.equal(s.defaultBand.fairnessPolicy, "global-strict-fairness-policy");
  assert.equal(s.defaultBand.orderingPolicy, "fcfs-ordering-policy");
  assert.equal(s.defaultBand.queue, "list-queue");
  assert.equal(s.defaultBand.usageLimit, undefined, "by priority: 1.25 above 0, else 1");
  assert.equal(s.activeReserve, 0.2);
  assert.equal(s.activeWindowMs, 10_000);
  assert.deepEqual(s.detector, { type: "utilization-detector" });
  assert.equal(s.queueSheddable, false);
});

test("the guide's example section parses, with quantities and durations", () => {
  const s = parseFlowControl({
    maxBytes: "1Gi",
    maxRequests: 500,
    defaultRequestTTL: "30s",
    priorityBands: [
      {
        priority: 100,
        maxBytes: 500000000,
        fairnessPolicyRef: "round-robin-fairness-policy",
        orderingPolicyRef: "edf-ordering-policy",
      },
    ],
  });
  assert.equal(s.maxBytes, 2 ** 30);
  assert.equal(s.maxRequests, 500);
  assert.equal(s.defaultRequestTTLMs, 30_000);
  const band = s.bands.get(100);
  assert.equal(band?.maxBytes, 500000000);
  assert.equal(band?.fairnessPolicy, "round-robin-fairness-policy");
  assert.equal(band?.queue, "heap-queue", "EDF needs a heap by default");
});

test("policy and detector references resolve through the plugins list by name", () => {
  const s = parseFlowControl(
    {
      defaultPriorityBand: { fairnessPolicyRef: "rr" },
      saturationDetector: { pluginRef: "sd" },
    },
    [
      { type: "round-robin-fairness-policy", name: "rr" },
      { type: "concurrency-detector", name: "sd", parameters: { maxConcurrency: 8 } },
    ],
  );
  assert.equal(s.defaultBand.fairnessPolicy, "round-robin-fairness-policy");
  assert.deepEqual(s.detector, { type: "concurrency-detector", parameters: { maxConcurrency: 8 } });
});

test("every problem is reported with its field path", () => {
  const found = issues({
    maxBytes: "lots",
    defaultRequestTTL: "30",
    priorityBands: [
      { priority: 1, fairnessPolicyRef: "fair-share" },
      { priority: 1.5 },
      { priority: 2, orderingPolicyRef: "edf-ordering-policy", queue: "list-queue" },
    ],
    surprise: true,
  });
  assert.ok(found.some((m) => m.startsWith("flowControl.maxBytes: ") && m.includes("not a quantity")));
  assert.ok(
    found.some((m) => m.startsWith("flowControl.defaultRequestTTL: ") && m.includes("not a duration")),
  );
  assert.ok(found.some((m) => m.startsWith("flowControl.priorityBands.1.priority: ")));
  assert.ok(found.some((m) => m === 'flowControl: unknown field "surprise"'));
});

test("unknown policies, incompatible queues and duplicate bands are named", () => {
  const found = issues({
    priorityBands: [
      { priority: 1, fairnessPolicyRef: "fair-share" },
      { priority: 2, orderingPolicyRef: "edf-ordering-policy", queue: "list-queue" },
      { priority: 1 },
    ],
  });
  assert.ok(
    found.includes(
      'flowControl.priorityBands.0.fairnessPolicyRef: unknown fairness policy "fair-share" (known: global-strict-fairness-policy, round-robin-fairness-policy)',
    ),
  );
  assert.ok(
    found.some((m) => m.startsWith("flowControl.priorityBands.1.queue: list-queue keeps arrival order")),
  );
  assert.ok(found.includes("flowControl.priorityBands.2.priority: priority 1 is configured twice"));
});

test("detector parameters are validated by the detector's own schema", () => {
  const found = issues({
    saturationDetector: {
      type: "utilization-detector",
      parameters: { kvCacheUtilThreshold: 1.5, qDepth: 3 },
    },
  });
  assert.ok(
    found.some((m) => m.startsWith("flowControl.saturationDetector.parameters.kvCacheUtilThreshold: ")),
  );
  assert.ok(found.some((m) => m === 'flowControl.saturationDetector.parameters: unknown field "qDepth"'));
  const unknown = issues({ saturationDetector: { type: "magic-detector" } });
  assert.deepEqual(unknown, [
    'flowControl.saturationDetector.type: unknown saturation detector "magic-detector" (known: utilization-detector, concurrency-detector)',
  ]);
});
