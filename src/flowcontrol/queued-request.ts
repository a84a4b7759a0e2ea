/**
 * One request held by the flow controller, with the intrusive links its queues use (so removal on
 * disconnect or expiry is O(1) for lists and O(log n) for heaps, and nothing else is allocated).
 */
import type { FlowRequest } from "./types.ts";

/** A queued request. Created by the flow controller; queues only touch the link fields. */
export class QueuedRequest {
  readonly request: FlowRequest;
  /** Arrival order across the whole controller (FCFS tie-breaker). */
  readonly seq: number;
  /** Clock time (ms) when it entered the queue. */
  readonly enqueuedAt: number;
  /** Clock time (ms) after which it expires with 503; Infinity = no TTL. */
  readonly deadline: number;
  /** Links for list queues (FIFO within a flow). */
  prev: QueuedRequest | undefined = undefined;
  next: QueuedRequest | undefined = undefined;
  /** Position in a heap queue; -1 when not in a heap. */
  heapIndex = -1;
  /** The queue holding this item (set by the queue on add, cleared on removal). */
  owner: object | undefined = undefined;

  constructor(request: FlowRequest, seq: number, enqueuedAt: number, deadline: number) {
    this.request = request;
    this.seq = seq;
    this.enqueuedAt = enqueuedAt;
    this.deadline = deadline;
  }
}
