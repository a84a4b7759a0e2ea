/**
 * `global-strict-fairness-policy` (default): the band behaves as one queue; the flow whose head
 * comes first under the ordering policy goes next (a busy flow can starve others).
 */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { BandFlows, FairnessPolicy, FlowQueue } from "../policy-types.ts";

export class GlobalStrictFairnessPolicy implements FairnessPolicy {
  readonly type = "global-strict-fairness-policy";
  readonly name: string;
  constructor(name = "global-strict-fairness-policy") {
    this.name = name;
  }

  pick(flows: BandFlows): FlowQueue | undefined {
    let best: FlowQueue | undefined;
    for (const id of flows.ids) {
      const q = flows.queue(id);
      const head = q.peek();
      if (!head) continue;
      const bestHead = best?.peek();
      if (!bestHead || flows.ordering.compare(head, bestHead) < 0) best = q;
    }
    return best;
  }
}

export const globalStrictFairnessPolicyPlugin = definePlugin({
  type: "global-strict-fairness-policy",
  kind: "fairness-policy",
  description: "serves the band's flows as one queue, by the ordering policy (the default)",
  parameters: z.strictObject({}),
  create: (name) => new GlobalStrictFairnessPolicy(name),
});
