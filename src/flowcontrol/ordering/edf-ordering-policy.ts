/** `edf-ordering-policy`: earliest deadline (enqueue + TTL) first; requests without a deadline last, FCFS among equals. */
import type { OrderingPolicy } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export const edfOrderingPolicy: OrderingPolicy = {
  type: "edf-ordering-policy",
  fifo: false,
  compare(a: QueuedRequest, b: QueuedRequest): number {
    if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
    return a.seq - b.seq;
  },
};
