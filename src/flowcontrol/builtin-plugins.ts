/**
 * Every built-in flow-control plugin type (saturation detectors, fairness and ordering policies,
 * queues), in one list, with the defaults a `flowControl` section falls back to.
 */
import type { DefinitionOf, PluginSpec } from "../plugins/registry.ts";
import { globalStrictFairnessPolicyPlugin } from "./fairness/global-strict-fairness-policy.ts";
import { roundRobinFairnessPolicyPlugin } from "./fairness/round-robin-fairness-policy.ts";
import { edfOrderingPolicyPlugin } from "./ordering/edf-ordering-policy.ts";
import { fcfsOrderingPolicyPlugin } from "./ordering/fcfs-ordering-policy.ts";
import type { FairnessPolicy, OrderingPolicy, QueueFactory } from "./policy-types.ts";
import { heapQueuePlugin } from "./queues/heap-queue.ts";
import { listQueuePlugin } from "./queues/list-queue.ts";
import { concurrencyDetectorPlugin } from "./saturation/concurrency-detector.ts";
import { utilizationDetectorPlugin } from "./saturation/utilization-detector.ts";
import type { SaturationDetector } from "./types.ts";

/** Flow control's plugin kinds and the interface each kind's instances implement. */
export interface FlowControlPlugins {
  "saturation-detector": SaturationDetector;
  "fairness-policy": FairnessPolicy;
  "ordering-policy": OrderingPolicy;
  queue: QueueFactory;
}

export const FLOW_CONTROL_PLUGINS: readonly DefinitionOf<FlowControlPlugins>[] = [
  utilizationDetectorPlugin,
  concurrencyDetectorPlugin,
  globalStrictFairnessPolicyPlugin,
  roundRobinFairnessPolicyPlugin,
  fcfsOrderingPolicyPlugin,
  edfOrderingPolicyPlugin,
  listQueuePlugin,
  heapQueuePlugin,
];

/** The default detector: `utilization-detector` with 5 / 0.8 / 200 ms. */
export const DEFAULT_DETECTOR: PluginSpec = { type: "utilization-detector" };
export const DEFAULT_FAIRNESS_POLICY: PluginSpec = { type: "global-strict-fairness-policy" };
export const DEFAULT_ORDERING_POLICY: PluginSpec = { type: "fcfs-ordering-policy" };

/** The default queue for an ordering: a list when arrival order suffices, else a heap. */
export function defaultQueueFor(ordering: OrderingPolicy): PluginSpec {
  return { type: ordering.fifo ? "list-queue" : "heap-queue" };
}
