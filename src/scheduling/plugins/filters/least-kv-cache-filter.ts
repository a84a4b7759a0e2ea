/** least-kv-cache-filter: keeps endpoints with KV utilisation ≤ min + (max − min) / N. */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveKvCacheUsage } from "../../effective-load.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class LeastKvCacheFilter implements Filter {
  readonly type = "least-kv-cache-filter";
  readonly name: string;
  constructor(name = "least-kv-cache-filter") {
    this.name = name;
  }
  filter(_request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    if (candidates.length === 0) return [];
    const kv = candidates.map((c) => effectiveKvCacheUsage(c));
    const min = Math.min(...kv);
    const max = Math.max(...kv);
    const limit = min + (max - min) / candidates.length;
    return candidates.filter((_, i) => kv[i]! <= limit);
  }
}

export const leastKvCacheFilterPlugin = definePlugin({
  type: "least-kv-cache-filter",
  kind: "filter",
  description: "keeps the endpoints in the lowest 1/N band of KV-cache utilisation",
  parameters: z.strictObject({}),
  create: (name) => new LeastKvCacheFilter(name),
});
