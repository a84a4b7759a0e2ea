/** `fcfs-ordering-policy` (default): first come, first served, by arrival at the gateway. */
import type { OrderingPolicy } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export const fcfsOrderingPolicy: OrderingPolicy = {
  type: "fcfs-ordering-policy",
  fifo: true,
  compare(a: QueuedRequest, b: QueuedRequest): number {
    return a.seq - b.seq;
  },
};
