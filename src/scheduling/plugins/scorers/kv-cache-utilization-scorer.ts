/** kv-cache-utilization-scorer: 1 − effective KV-cache utilisation. */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveKvCacheUsage } from "../../effective-load.ts";
import type { Candidate, SchedulingRequest, Scorer } from "../../types.ts";

export class KvCacheUtilizationScorer implements Scorer {
  readonly type = "kv-cache-utilization-scorer";
  readonly name: string;
  constructor(name = "kv-cache-utilization-scorer") {
    this.name = name;
  }
  score(_request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    return candidates.map((c) => 1 - effectiveKvCacheUsage(c));
  }
}

export const kvCacheUtilizationScorerPlugin = definePlugin({
  type: "kv-cache-utilization-scorer",
  kind: "scorer",
  description: "prefers endpoints with more free KV cache (1 − utilisation)",
  parameters: z.strictObject({}),
  create: (name) => new KvCacheUtilizationScorer(name),
});
