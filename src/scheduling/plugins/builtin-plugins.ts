/** Every built-in plugin type, registered by kebab-case name. */
import { PluginRegistry } from "../plugin-registry.ts";
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
import { kvCacheUtilizationScorerPlugin } from "./scorers/kv-cache-utilization-scorer.ts";
import { loraAffinityScorerPlugin } from "./scorers/lora-affinity-scorer.ts";
import { prefixCacheScorerPlugin } from "./scorers/prefix-cache-scorer.ts";
import { queueScorerPlugin } from "./scorers/queue-scorer.ts";
import { runningRequestsSizeScorerPlugin } from "./scorers/running-requests-size-scorer.ts";
import { sessionAffinityScorerPlugin } from "./scorers/session-affinity-scorer.ts";
import { singleProfileHandlerPlugin } from "./single-profile-handler.ts";

export const BUILTIN_PLUGINS = [
  queueScorerPlugin,
  kvCacheUtilizationScorerPlugin,
  runningRequestsSizeScorerPlugin,
  prefixCacheScorerPlugin,
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

/** A fresh registry with every built-in type. */
export function builtinRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  for (const def of BUILTIN_PLUGINS) r.register(def);
  return r;
}
