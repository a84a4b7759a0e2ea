/** least-queue-filter: keeps endpoints with waiting ≤ min + ⌊(max − min) / N⌋ (not just the minimum). */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveWaiting } from "../../effective-load.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class LeastQueueFilter implements Filter {
  readonly type = "least-queue-filter";
  readonly name: string;
  constructor(name = "least-queue-filter") {
    this.name = name;
  }
  filter(_request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    if (candidates.length === 0) return [];
    const q = candidates.map((c) => effectiveWaiting(c));
    const min = Math.min(...q);
    const max = Math.max(...q);
    const limit = min + Math.floor((max - min) / candidates.length);
    return candidates.filter((_, i) => q[i]! <= limit);
  }
}

export const leastQueueFilterPlugin = definePlugin({
  type: "least-queue-filter",
  kind: "filter",
  description: "keeps the endpoints in the lowest 1/N band of waiting requests",
  parameters: z.strictObject({}),
  create: (name) => new LeastQueueFilter(name),
});
