/** `edf-ordering-policy`: earliest deadline (enqueue + TTL) first; requests without a deadline last, FCFS among equals. */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { OrderingPolicy } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export class EdfOrderingPolicy implements OrderingPolicy {
  readonly type = "edf-ordering-policy";
  readonly name: string;
  readonly fifo = false;
  constructor(name = "edf-ordering-policy") {
    this.name = name;
  }
  compare(a: QueuedRequest, b: QueuedRequest): number {
    if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
    return a.seq - b.seq;
  }
}

export const edfOrderingPolicyPlugin = definePlugin({
  type: "edf-ordering-policy",
  kind: "ordering-policy",
  description: "earliest deadline (arrival + TTL) first within a flow; requests without one last",
  parameters: z.strictObject({}),
  create: (name) => new EdfOrderingPolicy(name),
});
