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
import { isCloseable, producesResponseHeaders } from "../plugins/capabilities.ts";
import type { Plugin } from "../plugins/registry.ts";
import { defaultScorerProfiles, legacyDecisionTreeProfile } from "./default-profiles.ts";
import {
  buildEndpointPickerConfig,
  ENDPOINT_PICKER_CONFIG_API_VERSION,
  hasSchedulingSection,
} from "./endpoint-picker-config.ts";
import type { PoolScheduling } from "./pool-scheduling.ts";
import type { PluginObserver, SchedulerProfile } from "./profile-runner.ts";
import { ProfileScheduler } from "./profile-scheduler.ts";
import type { Rng } from "./random.ts";
import { isPreRequestHook, isRequestPreparer, type ProfileHandler } from "./types.ts";

export interface PoolSchedulerDeps {
  /**
   * Attach a DecisionExplanation to results (explanation header, debug log, dashboard): always, or
   * whenever the function says so (asked once per decision; the director's runtime switch).
   */
  readonly explain?: boolean | (() => boolean);
  /** Per-plugin timing (the plugin latency histogram). */
  readonly observe?: PluginObserver;
  /** Default Math.random. */
  readonly rng?: Rng;
  /**
   * Told, each time a pool's scheduler is built, every plugin it holds (the replaced scheduler's
   * plugins are gone): the metrics finds its MetricsSource and EndpointRemovedListener plugins.
   */
  readonly onPlugins?: (poolKey: string, plugins: readonly Plugin[]) => void;
}

/** Which scheduler a pool runs, for logs and tests. */
export type SchedulerKind = "endpoint-picker-config" | "scorer-profile" | "legacy-decision-tree";

/** The EndpointPickerConfig that applies to `pool`, if any (rule 1 above). */
export function pickerConfigFor(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
): PickerConfigRecord | undefined {
  const scheduling = pickerConfigs.filter((c) => hasSchedulingSection(c.raw));
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

/** The pool's scheduler, its request preparers, pre-request hooks and response headers, found among its plugins by capability. */
export function createPoolScheduler(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
  deps: PoolSchedulerDeps = {},
): PoolScheduling & { readonly kind: SchedulerKind } {
  const rng = deps.rng ?? Math.random;
  const { kind, profiles, handler, plugins } = schedulerPlugins(pool, pickerConfigs, rng);
  deps.onPlugins?.(pool.key, plugins);
  const headers = plugins.filter(producesResponseHeaders);
  const closeables = plugins.filter(isCloseable);
  return {
    kind,
    scheduler: new ProfileScheduler({
      profiles,
      ...(handler ? { handler } : {}),
      ...(deps.explain ? { explain: deps.explain } : {}),
      ...(deps.observe ? { observe: deps.observe } : {}),
    }),
    preparers: plugins.filter(isRequestPreparer),
    preRequestHooks: plugins.filter(isPreRequestHook),
    // A session token goes back to the client, which sends it on its next turn.
    ...(headers.length > 0
      ? {
          responseHeaders: (id: string) => {
            const out: Record<string, string> = {};
            for (const h of headers) Object.assign(out, h.responseHeaders(id));
            return out;
          },
        }
      : {}),
    close: () => {
      for (const p of closeables) p.close();
    },
  };
}

/** The profiles a pool runs (rules 1–3 above) and every plugin they are made of. */
function schedulerPlugins(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
  rng: Rng,
): { kind: SchedulerKind; profiles: SchedulerProfile[]; handler?: ProfileHandler; plugins: Plugin[] } {
  const config = pickerConfigFor(pool, pickerConfigs);
  if (config !== undefined) {
    // Validated when the configuration was loaded (config/build-config.ts), so this does not throw.
    const built = buildEndpointPickerConfig(
      { apiVersion: ENDPOINT_PICKER_CONFIG_API_VERSION, kind: "EndpointPickerConfig", ...config.raw },
      { rng },
    );
    return {
      kind: "endpoint-picker-config",
      profiles: built.profiles,
      ...(built.handler ? { handler: built.handler } : {}),
      // Declared but in no profile still counts (a prefix scorer declared only to learn).
      plugins: [...new Set([...built.plugins.values(), ...pluginsOf(built.profiles)])],
    };
  }
  if (builtInSchedulerKind(pool) === "scorer-profile") {
    const { profile, loraProfile, handler } = defaultScorerProfiles(rng);
    const profiles = [profile, loraProfile];
    return { kind: "scorer-profile", profiles, handler, plugins: [...pluginsOf(profiles), handler] };
  }
  const profiles = [legacyDecisionTreeProfile(rng)];
  return { kind: "legacy-decision-tree", profiles, plugins: pluginsOf(profiles) };
}

/** The distinct plugins of some profiles, in order. */
function pluginsOf(profiles: readonly SchedulerProfile[]): Plugin[] {
  const all = new Set<Plugin>();
  for (const p of profiles) {
    for (const f of p.filters) all.add(f);
    for (const s of p.scorers) all.add(s.scorer);
    all.add(p.picker);
  }
  return [...all];
}
