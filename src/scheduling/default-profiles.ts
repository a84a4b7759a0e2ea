/**
 * The two built-in schedulers, chosen per pool when no EndpointPickerConfig is given:
 * - the scorer profile (`scheduler-v2` annotation or a v1 pool): queue-scorer 2,
 *   kv-cache-utilization-scorer 2, prefix-cache-scorer 3, plus lora-affinity-scorer 1 for LoRA
 *   adapter requests; max-score-picker;
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
import type { ProfileHandler } from "./types.ts";

/** Target + 2 fallbacks. */
export const DEFAULT_MAX_ENDPOINTS = 3;

/** The scorer profile for base-model requests and its LoRA variant, sharing one prefix index. */
export interface DefaultScorerProfiles {
  /** queue 2, kv 2, prefix 3; max-score picker. */
  readonly profile: SchedulerProfile;
  /** The same plus lora-affinity-scorer 1, for adapter requests. */
  readonly loraProfile: SchedulerProfile;
  /** Runs `loraProfile` for adapter requests, `profile` otherwise. */
  readonly handler: ProfileHandler;
  /** The shared prefix scorer: the profiles' pre-request hook. */
  readonly prefix: PrefixCacheScorer;
}

/**
 * The scorer profiles. Adapter requests only exist on pools that serve adapters, and
 * lora-affinity-scorer scores every endpoint 1 for base-model requests, so choosing the LoRA
 * variant per request is the same as adding the scorer to pools that serve adapters.
 */
export function defaultScorerProfiles(rng: Rng): DefaultScorerProfiles {
  const prefix = new PrefixCacheScorer();
  const picker = new MaxScorePicker(rng, "max-score-picker", DEFAULT_MAX_ENDPOINTS);
  const scorers: WeightedScorer[] = [
    { scorer: new QueueScorer(), weight: 2 },
    { scorer: new KvCacheUtilizationScorer(), weight: 2 },
    { scorer: prefix, weight: 3 },
  ];
  const profile: SchedulerProfile = { name: "default", filters: [], scorers, picker };
  const loraProfile: SchedulerProfile = {
    name: "default-lora",
    filters: [],
    scorers: [...scorers, { scorer: new LoraAffinityScorer(), weight: 1 }],
    picker,
  };
  const handler: ProfileHandler = {
    type: "adapter-aware-profile-handler",
    name: "adapter-aware-profile-handler",
    selectProfile: (request) => (request.isAdapter ? loraProfile : profile),
  };
  return { profile, loraProfile, handler, prefix };
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
