/**
 * The three pluggable layers under a priority band: a FlowQueue holds one flow's requests in the
 * order an OrderingPolicy defines; a FairnessPolicy chooses which flow of the band goes next.
 * Each is built from a registry by kebab-case type name and checked by one conformance suite.
 */
import type { Plugin } from "../plugins/registry.ts";
import type { QueuedRequest } from "./queued-request.ts";

/** Orders requests inside a flow: negative when `a` must be served before `b`. Pure. */
export interface OrderingPolicy extends Plugin {
  compare(a: QueuedRequest, b: QueuedRequest): number;
  /** True when arrival order is the policy's order, so a plain FIFO list can hold the flow. */
  readonly fifo: boolean;
}

/** A queue implementation (the `queue` plugin kind): which orderings it holds, and one flow's queue. */
export interface QueueFactory extends Plugin {
  supports(ordering: OrderingPolicy): boolean;
  /** A new, empty queue for one flow, ordered by `ordering` (one it supports). */
  newQueue(flowId: string, ordering: OrderingPolicy): FlowQueue;
}

/** The queue of one flow. Each item is in at most one queue at a time. */
export interface FlowQueue {
  readonly type: string;
  readonly flowId: string;
  readonly length: number;
  /** Sum of request bytes held. */
  readonly bytes: number;
  add(item: QueuedRequest): void;
  /** The item the ordering policy serves next, without removing it. */
  peek(): QueuedRequest | undefined;
  pop(): QueuedRequest | undefined;
  /** Removes a specific item; false when it is not in this queue. */
  remove(item: QueuedRequest): boolean;
}

/** The non-empty flows of one band, as a fairness policy sees them. */
export interface BandFlows {
  /** Flow ids of the non-empty flows, sorted ascending (string order). */
  readonly ids: readonly string[];
  queue(flowId: string): FlowQueue;
  /** The band's ordering policy (to compare heads across flows). */
  readonly ordering: OrderingPolicy;
}

/** Picks the flow whose head is dispatched next. One instance per band (it may keep a cursor). */
export interface FairnessPolicy extends Plugin {
  /** Returns the chosen non-empty flow, or undefined when the band is empty. */
  pick(flows: BandFlows): FlowQueue | undefined;
}
