/**
 * The two built-in schedulers, chosen per pool when no EndpointPickerConfig is given:
 * - the scorer profile (`scheduler-v2` annotation or a v1 pool): queue-scorer 2,
 *   kv-cache-utilization-scorer 2, prefix-cache-scorer 3, plus lora-affinity-scorer 1 when the pool
 *   serves LoRA adapters; max-score-picker;
 * - the legacy decision tree (v1alpha2 pools without the annotation): legacy-decision-tree-filter
 *   then random-picker.
 * Both return up to DEFAULT_MAX_ENDPOINTS endpoints (target + fallbacks for retries).
 */
import { legacyDecisionTree } from "./plugins/filters/legacy-decision-tree-filter.ts";
import { MaxScorePicker } from "./plugins/pickers/max-score-picker.ts";
import { RandomPicker } from "./plugins/pickers/random-picker.ts";
import { KvCacheUtilizationScorer } from "./plugins/scorers/kv-cache-utilization-scorer.ts";
import { LoraAffinityScorer } from "./plugins/scorers/lora-affinity-scorer.ts";
import { PrefixCacheScorer } from "./plugins/scorers/prefix-cache-scorer.ts";
import { QueueScorer } from "./plugins/scorers/queue-scorer.ts";
import type { SchedulerProfile, WeightedScorer } from "./profile-runner.ts";
import type { Rng } from "./random.ts";

/** Target + 2 fallbacks. */
export const DEFAULT_MAX_ENDPOINTS = 3;

/** The scorer profile; its prefix scorer is returned too, as the profile's pre-request hook. */
export function defaultScorerProfile(
  rng: Rng,
  options: { servesAdapters: boolean },
): { profile: SchedulerProfile; prefix: PrefixCacheScorer } {
  const prefix = new PrefixCacheScorer();
  const scorers: WeightedScorer[] = [
    { scorer: new QueueScorer(), weight: 2 },
    { scorer: new KvCacheUtilizationScorer(), weight: 2 },
    { scorer: prefix, weight: 3 },
  ];
  if (options.servesAdapters) scorers.push({ scorer: new LoraAffinityScorer(), weight: 1 });
  return {
    profile: {
      name: "default",
      filters: [],
      scorers,
      picker: new MaxScorePicker(rng, "max-score-picker", DEFAULT_MAX_ENDPOINTS),
    },
    prefix,
  };
}

/** The legacy decision-tree profile. */
export function legacyDecisionTreeProfile(rng: Rng): SchedulerProfile {
  return {
    name: "legacy-decision-tree",
    filters: [legacyDecisionTree(rng)],
    scorers: [],
    picker: new RandomPicker(rng, "random-picker", DEFAULT_MAX_ENDPOINTS),
  };
}
