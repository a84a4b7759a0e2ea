import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import { FlowControlMetrics } from "../../src/flowcontrol/metrics.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";
import { request, SettableDetector } from "./helpers.ts";

test("the gateway registry exposes queue size and bytes per priority, durations by outcome, saturation", async () => {
  const registry = new Registry();
  const metrics = new FlowControlMetrics(registry);
  const detector = new SettableDetector();
  const timers = new FakeTimers();
  const controller = new FlowController({
    timers,
    settings: parseFlowControl({ maxRequests: 2 }),
    detector,
    candidates: () => [],
    metrics,
    poolName: "qwen-pool",
  });
  await controller.admit(request("now", 0));
  detector.value = 1.5;
  const waiting = [
    controller.admit(request("w1", 10, "f", { bytes: 300 })),
    controller.admit(request("w2", 0)),
  ];
  await controller.admit(request("full", 0)).catch(() => undefined);
  await timers.turns();
  const text = await registry.metrics();
  assert.match(
    text,
    /inference_extension_flow_control_queue_size\{inference_pool="qwen-pool",priority="10"\} 1/,
  );
  assert.match(
    text,
    /inference_extension_flow_control_queue_size\{inference_pool="qwen-pool",priority="0"\} 1/,
  );
  assert.match(
    text,
    /inference_extension_flow_control_queue_bytes\{inference_pool="qwen-pool",priority="10"\} 300/,
  );
  assert.match(text, /inference_extension_flow_control_pool_saturation\{inference_pool="qwen-pool"\} 1\.5/);
  assert.match(
    text,
    /inference_extension_flow_control_request_queue_duration_seconds_count\{inference_pool="qwen-pool",priority="0",outcome="dispatched"\} 1/,
  );
  assert.match(
    text,
    /inference_extension_flow_control_request_queue_duration_seconds_count\{inference_pool="qwen-pool",priority="0",outcome="rejected_capacity"\} 1/,
  );
  controller.close();
  await Promise.allSettled(waiting);
  const after = await registry.metrics();
  assert.doesNotMatch(after, /queue_size\{inference_pool="qwen-pool"/, "a closed controller stops reporting");
});
