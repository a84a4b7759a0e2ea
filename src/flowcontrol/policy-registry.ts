/**
 * Registries of the queue, ordering and fairness plugins by kebab-case type name, as
 * EndpointPickerConfig names them (`fairnessPolicyRef`, `orderingPolicyRef`, `queue`).
 */
import { GlobalStrictFairnessPolicy } from "./fairness/global-strict-fairness-policy.ts";
import { RoundRobinFairnessPolicy } from "./fairness/round-robin-fairness-policy.ts";
import { edfOrderingPolicy } from "./ordering/edf-ordering-policy.ts";
import { fcfsOrderingPolicy } from "./ordering/fcfs-ordering-policy.ts";
import type { FairnessPolicy, FlowQueue, OrderingPolicy } from "./policy-types.ts";
import { HeapQueue } from "./queues/heap-queue.ts";
import { ListQueue } from "./queues/list-queue.ts";

/** Ordering policies by type name; stateless, shared. */
export const orderingPolicies: Readonly<Record<string, OrderingPolicy>> = {
  [fcfsOrderingPolicy.type]: fcfsOrderingPolicy,
  [edfOrderingPolicy.type]: edfOrderingPolicy,
};

/** Fairness policy factories by type name; one instance per band. */
export const fairnessPolicies: Readonly<Record<string, () => FairnessPolicy>> = {
  "global-strict-fairness-policy": () => new GlobalStrictFairnessPolicy(),
  "round-robin-fairness-policy": () => new RoundRobinFairnessPolicy(),
};

/** A queue implementation: which orderings it can hold, and how to build one flow's queue. */
export interface QueueKind {
  supports(ordering: OrderingPolicy): boolean;
  create(flowId: string, ordering: OrderingPolicy): FlowQueue;
}

/** Queue kinds by type name. `list-queue` holds FIFO orderings only; `heap-queue` holds any. */
export const queueKinds: Readonly<Record<string, QueueKind>> = {
  "list-queue": { supports: (o) => o.fifo, create: (flowId) => new ListQueue(flowId) },
  "heap-queue": { supports: () => true, create: (flowId, o) => new HeapQueue(flowId, o) },
};

export const DEFAULT_FAIRNESS_POLICY = "global-strict-fairness-policy";
export const DEFAULT_ORDERING_POLICY = "fcfs-ordering-policy";

/** The default queue for an ordering: a list when arrival order suffices, else a heap. */
export function defaultQueueFor(ordering: OrderingPolicy): string {
  return ordering.fifo ? "list-queue" : "heap-queue";
}

/** Looks a name up in a registry; throws an Error naming the known types otherwise. */
export function lookup<T>(registry: Readonly<Record<string, T>>, kind: string, type: string): T {
  const found = Object.hasOwn(registry, type) ? registry[type] : undefined;
  if (found === undefined) {
    throw new Error(`unknown ${kind} "${type}" (known: ${Object.keys(registry).join(", ")})`);
  }
  return found;
}
