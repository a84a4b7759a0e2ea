/**
 * legacy-decision-tree-filter: the Inference Extension v0.3 scheduler as one filter.
 * - Critical (priority > 0): endpoints with waiting < 128 → LoRA affinity → least-queue → least-KV;
 *   when none has waiting < 128: least-queue → LoRA affinity → least-KV.
 * - Non-critical: endpoints with waiting ≤ 5 and KV ≤ 0.8 → least-queue → LoRA affinity → least-KV;
 *   when there is none, no endpoint (the gateway answers 429).
 * Pair it with random-picker (the legacy final pick is uniform).
 */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Rng } from "../../random.ts";
import { CriticalRequestFilter } from "./critical-request-filter.ts";
import { DecisionTreeFilter, tree } from "./decision-tree-filter.ts";
import { DropRequestFilter } from "./drop-request-filter.ts";
import { HasCapacityFilter } from "./has-capacity-filter.ts";
import { LeastKvCacheFilter } from "./least-kv-cache-filter.ts";
import { LeastQueueFilter } from "./least-queue-filter.ts";
import { LoraAffinityFilter } from "./lora-affinity-filter.ts";
import { LowQueueFilter } from "./low-queue-filter.ts";

/** Tunables, with the Inference Extension's env defaults. */
export interface LegacyTreeOptions {
  kvCacheThreshold: number;
  queueThresholdCritical: number;
  queueingThresholdLoRA: number;
  loraAffinityThreshold: number;
}

/** Builds the legacy tree with `rng` for the LoRA affinity draw. */
export function legacyDecisionTree(
  rng: Rng,
  o: Partial<LegacyTreeOptions> = {},
  name = "legacy-decision-tree-filter",
): DecisionTreeFilter {
  const lora = new LoraAffinityFilter(rng, "lora-affinity-filter", o.loraAffinityThreshold ?? 0.999);
  const leastQueue = new LeastQueueFilter();
  const leastKv = new LeastKvCacheFilter();
  const queueAndKv = tree(leastQueue, { nextOnSuccessOrFailure: leastKv });
  const queueLoraAndKv = tree(leastQueue, {
    nextOnSuccessOrFailure: tree(lora, { nextOnSuccessOrFailure: leastKv }),
  });
  const critical = tree(new LowQueueFilter("low-queue-filter", o.queueingThresholdLoRA ?? 128), {
    nextOnSuccess: tree(lora, { nextOnSuccessOrFailure: queueAndKv }),
    nextOnFailure: queueLoraAndKv,
  });
  const nonCritical = tree(
    new HasCapacityFilter("has-capacity-filter", o.queueThresholdCritical ?? 5, o.kvCacheThreshold ?? 0.8),
    { nextOnSuccess: queueLoraAndKv, nextOnFailure: new DropRequestFilter() },
  );
  return new DecisionTreeFilter(
    { current: new CriticalRequestFilter(), nextOnSuccess: critical, nextOnFailure: nonCritical },
    name,
    "legacy-decision-tree-filter",
  );
}

export const legacyDecisionTreeFilterPlugin = definePlugin({
  type: "legacy-decision-tree-filter",
  kind: "filter",
  description:
    "the v0.3 scheduler: Critical vs non-critical filter tree (non-critical with no capacity → 429)",
  parameters: z.strictObject({
    kvCacheThreshold: z.number().min(0).max(1).default(0.8),
    queueThresholdCritical: z.number().min(0).default(5),
    queueingThresholdLoRA: z.number().min(0).default(128),
    loraAffinityThreshold: z.number().min(0).max(1).default(0.999),
  }),
  create: (name, p, ctx) => legacyDecisionTree(ctx.rng, p, name),
});
