/**
 * has-capacity-filter: keeps endpoints with at most `queueThreshold` (5) waiting requests and KV
 * utilisation at most `kvCacheThreshold` (0.8): the legacy tree's test that a non-critical request
 * can run without hurting critical ones.
 */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveKvCacheUsage, effectiveWaiting } from "../../effective-load.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class HasCapacityFilter implements Filter {
  readonly type = "has-capacity-filter";
  readonly name: string;
  readonly queueThreshold: number;
  readonly kvCacheThreshold: number;
  constructor(name = "has-capacity-filter", queueThreshold = 5, kvCacheThreshold = 0.8) {
    this.name = name;
    this.queueThreshold = queueThreshold;
    this.kvCacheThreshold = kvCacheThreshold;
  }
  filter(_request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    return candidates.filter((c) => {
      return effectiveWaiting(c) <= this.queueThreshold && effectiveKvCacheUsage(c) <= this.kvCacheThreshold;
    });
  }
}

export const hasCapacityFilterPlugin = definePlugin({
  type: "has-capacity-filter",
  kind: "filter",
  description: "keeps endpoints with waiting ≤ queueThreshold (5) and KV ≤ kvCacheThreshold (0.8)",
  parameters: z.strictObject({
    queueThreshold: z.number().min(0).default(5),
    kvCacheThreshold: z.number().min(0).max(1).default(0.8),
  }),
  create: (name, p) => new HasCapacityFilter(name, p.queueThreshold, p.kvCacheThreshold),
});
