/** `fcfs-ordering-policy` (default): first come, first served, by arrival at the gateway. */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { OrderingPolicy } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export class FcfsOrderingPolicy implements OrderingPolicy {
  readonly type = "fcfs-ordering-policy";
  readonly name: string;
  readonly fifo = true;
  constructor(name = "fcfs-ordering-policy") {
    this.name = name;
  }
  compare(a: QueuedRequest, b: QueuedRequest): number {
    return a.seq - b.seq;
  }
}

export const fcfsOrderingPolicyPlugin = definePlugin({
  type: "fcfs-ordering-policy",
  kind: "ordering-policy",
  description: "first come, first served within a flow (the default)",
  parameters: z.strictObject({}),
  create: (name) => new FcfsOrderingPolicy(name),
});
