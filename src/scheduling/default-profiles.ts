/**
 * The two built-in schedulers, chosen per pool when no EndpointPickerConfig is given:
 * - the scorer profile (`scheduler-v2` annotation or a v1 pool): expected-ttft-scorer 1 (the cost
 *   model, over the approximate prefix-cache-scorer, which is in the profile at weight 0 so that it
 *   learns every decision and shows in explanations), plus lora-affinity-scorer 1 for LoRA adapter
 *   requests; max-score-picker. The fixed weights (queue 2, kv 2, prefix 3) remain available as an
 *   EndpointPickerConfig (docs/configuration.md);
 * - the legacy decision tree (v1alpha2 pools without the annotation): legacy-decision-tree-filter
 *   then random-picker.
 * Both return up to DEFAULT_MAX_ENDPOINTS endpoints (target + fallbacks for retries).
 */

import { legacyDecisionTree } from "./plugins/filters/legacy-decision-tree-filter.ts";
import { MaxScorePicker } from "./plugins/pickers/max-score-picker.ts";
import { RandomPicker } from "./plugins/pickers/random-picker.ts";
import { ExpectedTtftScorer } from "./plugins/scorers/expected-ttft-scorer.ts";
import { LoraAffinityScorer } from "./plugins/scorers/lora-affinity-scorer.ts";
import { PrefixCacheScorer } from "./plugins/scorers/prefix-cache-scorer.ts";
import type { PrefixMatchSource } from "./prefix-match.ts";
import type { SchedulerProfile, WeightedScorer } from "./profile-runner.ts";
import type { Rng } from "./random.ts";
import type { PreRequestHook, ProfileHandler, RequestPreparer, Scorer } from "./types.ts";

/** Target + 2 fallbacks. */
export const DEFAULT_MAX_ENDPOINTS = 3;

/** The scorer profile for base-model requests and its LoRA variant, sharing one prefix index. */
export interface DefaultScorerProfiles {
  /** expected-ttft 1, prefix 0; max-score picker. */
  readonly profile: SchedulerProfile;
  /** The same plus lora-affinity-scorer 1, for adapter requests. */
  readonly loraProfile: SchedulerProfile;
  /** Runs `loraProfile` for adapter requests, `profile` otherwise. */
  readonly handler: ProfileHandler;
  /** The shared prefix scorer. */
  readonly prefix: PrefixCacheScorer;
  /** The profiles' request preparers: the prefix scorer (the prompt's block hashes). */
  readonly preparers: readonly RequestPreparer[];
  /** The profiles' pre-request hooks: the cost model (its dispatch log) and the prefix scorer. */
  readonly hooks: readonly PreRequestHook[];
}

/**
 * The scorer profiles. Adapter requests only exist on pools that serve adapters, and
 * lora-affinity-scorer scores every endpoint 1 for base-model requests, so choosing the LoRA
 * variant per request is the same as adding the scorer to pools that serve adapters.
 */
export function defaultScorerProfiles(rng: Rng): DefaultScorerProfiles {
  const prefix = new PrefixCacheScorer();
  const { profile, hooks } = costModelProfile("default", prefix, rng);
  const loraProfile: SchedulerProfile = {
    ...profile,
    name: "default-lora",
    scorers: [...profile.scorers, { scorer: new LoraAffinityScorer(), weight: 1 }],
  };
  const handler: ProfileHandler = {
    type: "adapter-aware-profile-handler",
    name: "adapter-aware-profile-handler",
    selectProfile: (request) => (request.isAdapter ? loraProfile : profile),
  };
  return { profile, loraProfile, handler, prefix, preparers: [prefix], hooks };
}

/**
 * The cost model over a prefix scorer, as the scorer profile runs it: expected-ttft-scorer 1 and
 * the prefix scorer 0 (so that it learns every decision and shows in explanations), max-score
 * picker; with the hooks each decision feeds (the cost model's dispatch log, the prefix index).
 */
export function costModelProfile(
  name: string,
  prefix: Scorer & PrefixMatchSource & PreRequestHook,
  rng: Rng,
): { profile: SchedulerProfile; ttft: ExpectedTtftScorer; hooks: PreRequestHook[] } {
  const ttft = new ExpectedTtftScorer("expected-ttft-scorer", prefix);
  const scorers: WeightedScorer[] = [
    { scorer: ttft, weight: 1 },
    { scorer: prefix, weight: 0 },
  ];
  const picker = new MaxScorePicker(rng, "max-score-picker", DEFAULT_MAX_ENDPOINTS);
  return { profile: { name, filters: [], scorers, picker }, ttft, hooks: [ttft, prefix] };
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
