/**
 * `round-robin-fairness-policy`: a cursor walks the band's flow ids in sorted order, skipping empty
 * flows; the unit of fairness is one dispatch, so backlogged flows stay within one dispatch of each other.
 */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { BandFlows, FairnessPolicy, FlowQueue } from "../policy-types.ts";

export class RoundRobinFairnessPolicy implements FairnessPolicy {
  readonly type = "round-robin-fairness-policy";
  readonly name: string;
  /** The flow served last; the next pick is the first non-empty id after it (wrapping). */
  private last: string | undefined;

  constructor(name = "round-robin-fairness-policy") {
    this.name = name;
  }

  pick(flows: BandFlows): FlowQueue | undefined {
    const ids = flows.ids;
    if (ids.length === 0) return undefined;
    let index = 0;
    if (this.last !== undefined) {
      index = upperBound(ids, this.last);
      if (index >= ids.length) index = 0;
    }
    const id = ids[index]!;
    this.last = id;
    return flows.queue(id);
  }
}

export const roundRobinFairnessPolicyPlugin = definePlugin({
  type: "round-robin-fairness-policy",
  kind: "fairness-policy",
  description: "serves the band's backlogged flows in turn, one dispatch each",
  parameters: z.strictObject({}),
  create: (name) => new RoundRobinFairnessPolicy(name),
});

/** First index whose id sorts after `key`. */
function upperBound(ids: readonly string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
