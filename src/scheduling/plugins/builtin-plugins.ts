/** Every built-in scheduling plugin type (filters, scorers, pickers, profile handlers), in one list. */
import type { DefinitionOf } from "../../plugins/registry.ts";
import type { Filter, Picker, ProfileHandler, Scorer } from "../types.ts";
import { criticalRequestFilterPlugin } from "./filters/critical-request-filter.ts";
import { decisionTreeFilterPlugin } from "./filters/decision-tree-filter.ts";
import { dropRequestFilterPlugin } from "./filters/drop-request-filter.ts";
import { hasCapacityFilterPlugin } from "./filters/has-capacity-filter.ts";
import { leastKvCacheFilterPlugin } from "./filters/least-kv-cache-filter.ts";
import { leastQueueFilterPlugin } from "./filters/least-queue-filter.ts";
import { legacyDecisionTreeFilterPlugin } from "./filters/legacy-decision-tree-filter.ts";
import { loraAffinityFilterPlugin } from "./filters/lora-affinity-filter.ts";
import { lowQueueFilterPlugin } from "./filters/low-queue-filter.ts";
import { maxScorePickerPlugin } from "./pickers/max-score-picker.ts";
import { randomPickerPlugin } from "./pickers/random-picker.ts";
import { weightedRandomPickerPlugin } from "./pickers/weighted-random-picker.ts";
import { expectedTtftScorerPlugin } from "./scorers/expected-ttft-scorer.ts";
import { kvCacheUtilizationScorerPlugin } from "./scorers/kv-cache-utilization-scorer.ts";
import { loraAffinityScorerPlugin } from "./scorers/lora-affinity-scorer.ts";
import { precisePrefixCacheScorerPlugin } from "./scorers/precise-prefix-cache-scorer.ts";
import { prefixCacheScorerPlugin } from "./scorers/prefix-cache-scorer.ts";
import { queueScorerPlugin } from "./scorers/queue-scorer.ts";
import { runningRequestsSizeScorerPlugin } from "./scorers/running-requests-size-scorer.ts";
import { sessionAffinityScorerPlugin } from "./scorers/session-affinity-scorer.ts";
import { singleProfileHandlerPlugin } from "./single-profile-handler.ts";

/** Scheduling's plugin kinds and the interface each kind's instances implement. */
export interface SchedulingPlugins {
  filter: Filter;
  scorer: Scorer;
  picker: Picker;
  "profile-handler": ProfileHandler;
}

/** The kinds a scheduling profile is made of (and that make an EndpointPickerConfig a scheduling one). */
export const SCHEDULING_KINDS: readonly (keyof SchedulingPlugins)[] = [
  "filter",
  "scorer",
  "picker",
  "profile-handler",
];

export const SCHEDULING_PLUGINS: readonly DefinitionOf<SchedulingPlugins>[] = [
  queueScorerPlugin,
  kvCacheUtilizationScorerPlugin,
  runningRequestsSizeScorerPlugin,
  prefixCacheScorerPlugin,
  precisePrefixCacheScorerPlugin,
  expectedTtftScorerPlugin,
  loraAffinityScorerPlugin,
  sessionAffinityScorerPlugin,
  lowQueueFilterPlugin,
  loraAffinityFilterPlugin,
  leastQueueFilterPlugin,
  leastKvCacheFilterPlugin,
  hasCapacityFilterPlugin,
  criticalRequestFilterPlugin,
  dropRequestFilterPlugin,
  decisionTreeFilterPlugin,
  legacyDecisionTreeFilterPlugin,
  maxScorePickerPlugin,
  randomPickerPlugin,
  weightedRandomPickerPlugin,
  singleProfileHandlerPlugin,
];
