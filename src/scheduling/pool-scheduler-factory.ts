/**
 * The one place that decides which scheduler a pool gets; the director calls it whenever a pool
 * appears or changes (or the EndpointPickerConfigs change).
 *
 * 1. An EndpointPickerConfig with `plugins` applies to a pool when its `metadata.name` equals the
 *    pool's extensionRef / endpointPickerRef name, or when it is the only such config.
 * 2. Otherwise, pools annotated `experimental-use-scheduler-v2: "true"` and v1 pools get the scorer
 *    profile (queue 2 / kv 2 / prefix 3, + LoRA affinity for adapter requests, max-score picker).
 * 3. Otherwise (v1alpha2 pools) the legacy decision tree with a random picker.
 */
import type { PickerConfigRecord } from "../api/endpoint-picker-config.ts";
import { POOL_GROUP_V1, type PoolRecord } from "../api/inference-pool.ts";
import { defaultScorerProfiles, legacyDecisionTreeProfile } from "./default-profiles.ts";
import {
  buildEndpointPickerConfig,
  ENDPOINT_PICKER_CONFIG_API_VERSION,
  hasSchedulingSection,
} from "./endpoint-picker-config.ts";
import { builtinRegistry } from "./plugins/builtin-plugins.ts";
import { PrefixCacheScorer } from "./plugins/scorers/prefix-cache-scorer.ts";
import { SessionAffinityScorer, sessionTokenFor } from "./plugins/scorers/session-affinity-scorer.ts";
import type { PoolScheduling } from "./pool-scheduling.ts";
import type { PluginObserver } from "./profile-runner.ts";
import { ProfileScheduler } from "./profile-scheduler.ts";
import type { Rng } from "./random.ts";

export interface PoolSchedulerDeps {
  /** Attach a DecisionExplanation to every result (explanation header, debug log). */
  readonly explain?: boolean;
  /** Per-plugin timing (the plugin latency histogram). */
  readonly observe?: PluginObserver;
  /** Default Math.random. */
  readonly rng?: Rng;
  /** Told about every prefix-cache scorer built (prefix-index metrics, endpoint removal). */
  readonly onPrefixScorer?: (poolKey: string, scorer: PrefixCacheScorer) => void;
}

/** Which scheduler a pool runs, for logs and tests. */
export type SchedulerKind = "endpoint-picker-config" | "scorer-profile" | "legacy-decision-tree";

const REGISTRY = builtinRegistry();
/** Configs were validated at load, so a type scheduling does not know belongs to another module. */
const isNotScheduling = (type: string): boolean => REGISTRY.get(type) === undefined;

/** The EndpointPickerConfig that applies to `pool`, if any (rule 1 above). */
export function pickerConfigFor(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
): PickerConfigRecord | undefined {
  const scheduling = pickerConfigs.filter((c) => hasSchedulingSection(c.raw, isNotScheduling));
  const named = pool.endpointPicker?.name;
  const byName = named === undefined ? undefined : scheduling.find((c) => c.name === named);
  return byName ?? (scheduling.length === 1 ? scheduling[0] : undefined);
}

/** Rules 2 and 3 above. */
export function builtInSchedulerKind(pool: PoolRecord): Exclude<SchedulerKind, "endpoint-picker-config"> {
  return pool.useSchedulerV2 || pool.apiVersion.startsWith(`${POOL_GROUP_V1}/`)
    ? "scorer-profile"
    : "legacy-decision-tree";
}

export function createPoolScheduler(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
  deps: PoolSchedulerDeps = {},
): PoolScheduling & { readonly kind: SchedulerKind } {
  const rng = deps.rng ?? Math.random;
  const common = {
    ...(deps.explain ? { explain: true } : {}),
    ...(deps.observe ? { observe: deps.observe } : {}),
  };
  const config = pickerConfigFor(pool, pickerConfigs);
  if (config !== undefined) {
    // Validated when the configuration was loaded (config/build-config.ts), so this does not throw.
    const built = buildEndpointPickerConfig(
      { apiVersion: ENDPOINT_PICKER_CONFIG_API_VERSION, kind: "EndpointPickerConfig", ...config.raw },
      // Types it does not know were accepted as other modules' at load time.
      { rng, source: { file: config.source.file }, isForeignType: isNotScheduling },
    );
    for (const h of built.preRequestHooks)
      if (h instanceof PrefixCacheScorer) deps.onPrefixScorer?.(pool.key, h);
    const session = [...built.plugins.values()].find((p) => p instanceof SessionAffinityScorer);
    return {
      kind: "endpoint-picker-config",
      // The session token goes back to the client, which sends it on its next turn.
      ...(session instanceof SessionAffinityScorer
        ? { responseHeaders: (id: string) => ({ [session.headerName]: sessionTokenFor(id) }) }
        : {}),
      scheduler: new ProfileScheduler({
        profiles: built.profiles,
        ...(built.handler ? { handler: built.handler } : {}),
        ...common,
      }),
      preRequestHooks: built.preRequestHooks,
      responseHooks: [],
    };
  }
  if (builtInSchedulerKind(pool) === "scorer-profile") {
    const { profile, loraProfile, handler, prefix } = defaultScorerProfiles(rng);
    deps.onPrefixScorer?.(pool.key, prefix);
    return {
      kind: "scorer-profile",
      scheduler: new ProfileScheduler({ profiles: [profile, loraProfile], handler, ...common }),
      preRequestHooks: [prefix],
      responseHooks: [],
    };
  }
  return {
    kind: "legacy-decision-tree",
    scheduler: new ProfileScheduler({ profiles: [legacyDecisionTreeProfile(rng)], ...common }),
    preRequestHooks: [],
    responseHooks: [],
  };
}
