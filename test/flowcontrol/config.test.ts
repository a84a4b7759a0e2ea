import assert from "node:assert/strict";
import { test } from "node:test";
import { FieldIssueError } from "../../src/config/field-issue.ts";
import { DEFAULT_BAND_MAX_BYTES, parseFlowControl } from "../../src/flowcontrol/config.ts";
import { settingsFromSection } from "../../src/flowcontrol/picker-config-section.ts";
import type { PluginSpec } from "../../src/plugins/registry.ts";

function issues(raw: unknown, plugins: PluginSpec[] = []): string[] {
  return issuesOf(() => parseFlowControl(raw, plugins));
}

function issuesOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (e) {
    assert.ok(e instanceof FieldIssueError);
    return e.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  }
  assert.fail("expected a FieldIssueError");
}

test("an absent section gives the Inference Extension defaults, bounded (issue 13)", () => {
  const s = parseFlowControl(undefined);
  assert.equal(s.maxBytes, 0);
  assert.equal(s.maxRequests, 0);
  assert.equal(s.defaultRequestTTLMs, 30_000);
  assert.equal(s.defaultBand.maxBytes, DEFAULT_BAND_MAX_BYTES);
  assert.equal(DEFAULT_BAND_MAX_BYTES, 256 * 1024 * 1024);
  assert.equal(s.defaultBand.maxRequests, 1000);
  assert.equal(s.defaultBand.fairnessPolicy.type, "global-strict-fairness-policy");
  assert.equal(s.defaultBand.orderingPolicy.type, "fcfs-ordering-policy");
  assert.equal(s.defaultBand.queue.type, "list-queue");
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
  assert.equal(band?.fairnessPolicy.type, "round-robin-fairness-policy");
  assert.equal(band?.queue.type, "heap-queue", "EDF needs a heap by default");
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
  assert.equal(s.defaultBand.fairnessPolicy.type, "round-robin-fairness-policy");
  assert.deepEqual(s.detector, {
    type: "concurrency-detector",
    name: "sd",
    parameters: { maxConcurrency: 8 },
  });
});

test("a reference to a plugin of another kind is named; a declared plugin's problems point at its declaration", () => {
  const found = issues(
    {
      defaultPriorityBand: { fairnessPolicyRef: "queue-scorer", orderingPolicyRef: "fcfs" },
      saturationDetector: { pluginRef: "sd" },
    },
    [
      { type: "fcfs-ordering-policy", name: "fcfs" },
      { type: "concurrency-detector", name: "sd", parameters: { maxConcurrency: -1 } },
    ],
  );
  assert.ok(
    found.includes(
      'flowControl.defaultPriorityBand.fairnessPolicyRef: "queue-scorer" is a scorer, not a fairness policy (known: global-strict-fairness-policy, round-robin-fairness-policy)',
    ),
    found.join("\n"),
  );
  assert.ok(
    found.some((m) => m.startsWith("plugins.1.parameters.maxConcurrency: ")),
    found.join("\n"),
  );
  assert.equal(found.length, 2, found.join("\n"));
});

test("the document's top-level saturationDetector applies when flowControl names none, checked where it is written", () => {
  const plugins = [{ type: "concurrency-detector", parameters: { maxConcurrency: 4 } }];
  const s = settingsFromSection({
    flowControl: { maxRequests: 3 },
    saturationDetector: { pluginRef: "concurrency-detector" },
    plugins,
  });
  assert.equal(s.detector.type, "concurrency-detector");
  assert.equal(s.maxRequests, 3);
  const inner = settingsFromSection({
    flowControl: { saturationDetector: { type: "utilization-detector" } },
    saturationDetector: { pluginRef: "concurrency-detector" },
    plugins,
  });
  assert.equal(inner.detector.type, "utilization-detector", "the section's own reference wins");
  assert.deepEqual(
    issuesOf(() =>
      settingsFromSection({ flowControl: undefined, saturationDetector: { pluginRef: "nope" }, plugins }),
    ),
    [
      'saturationDetector: unknown saturation detector "nope" (known: utilization-detector, concurrency-detector)',
    ],
  );
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
  assert.ok(found.some((m) => m === "flowControl.surprise: is not a known field"));
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
  assert.ok(
    found.some((m) => m.startsWith("flowControl.saturationDetector.parameters.qDepth: is not a known field")),
  );
  const unknown = issues({ saturationDetector: { type: "magic-detector" } });
  assert.deepEqual(unknown, [
    'flowControl.saturationDetector.type: unknown saturation detector "magic-detector" (known: utilization-detector, concurrency-detector)',
  ]);
});
