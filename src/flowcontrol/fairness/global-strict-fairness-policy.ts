/**
 * `global-strict-fairness-policy` (default): the band behaves as one queue; the flow whose head
 * comes first under the ordering policy goes next (a busy flow can starve others).
 */
import type { BandFlows, FairnessPolicy, FlowQueue } from "../policy-types.ts";

export class GlobalStrictFairnessPolicy implements FairnessPolicy {
  readonly type = "global-strict-fairness-policy";

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
