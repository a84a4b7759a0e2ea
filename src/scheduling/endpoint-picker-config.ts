/**
 * `EndpointPickerConfig` (`inference.networking.x-k8s.io/v1alpha1`): plugins of every kind declared
 * by type with parameters, built through the one plugin registry, and scheduling profiles assembled
 * from the scheduling ones. Validated with zod; every problem is a FieldIssue at its path from the
 * document root, which the config loader turns into file, line and field. The declarations'
 * problems are all reported; after them, the first problem of the profiles.
 */
import { z } from "zod";
import { type FieldIssue, FieldIssueError, prefixIssues } from "../config/field-issue.ts";
import { BUILTIN_REGISTRY, type GatewayPlugins } from "../plugins/builtin-registry.ts";
import type { BuiltPlugin, Plugin, PluginContext } from "../plugins/registry.ts";
import { fieldIssuesFromZod } from "../plugins/zod-issues.ts";
import { SCHEDULING_KINDS } from "./plugins/builtin-plugins.ts";
import { MaxScorePicker } from "./plugins/pickers/max-score-picker.ts";
import type { SchedulerProfile, WeightedScorer } from "./profile-runner.ts";
import type { Rng } from "./random.ts";
import {
  type Filter,
  isPreRequestHook,
  type Picker,
  type PreRequestHook,
  type ProfileHandler,
  type Scorer,
} from "./types.ts";

export const ENDPOINT_PICKER_CONFIG_API_VERSION = "inference.networking.x-k8s.io/v1alpha1";

const pluginSpec = z.strictObject({
  name: z.string().min(1).optional(),
  type: z.string().min(1),
  parameters: z.unknown().optional(),
});

const profileSpec = z.strictObject({
  name: z.string().min(1),
  plugins: z
    .array(z.strictObject({ pluginRef: z.string().min(1), weight: z.number().min(0).optional() }))
    .default([]),
});

/** The document's schema. Sections owned by other modules (flow control, data layer, failure policy) are accepted as-is. */
export const endpointPickerConfigSchema = z.strictObject({
  apiVersion: z.literal(ENDPOINT_PICKER_CONFIG_API_VERSION),
  kind: z.literal("EndpointPickerConfig"),
  metadata: z.unknown().optional(),
  plugins: z.array(pluginSpec).optional(),
  schedulingProfiles: z.array(profileSpec).optional(),
  saturationDetector: z.unknown().optional(),
  flowControl: z.unknown().optional(),
  data: z.unknown().optional(),
  parser: z.unknown().optional(),
  featureGates: z.unknown().optional(),
  outlierDetection: z.unknown().optional(),
  retry: z.unknown().optional(),
  noEndpointTTL: z.unknown().optional(),
});

export type EndpointPickerConfigSpec = z.infer<typeof endpointPickerConfigSchema>;

/** What a config builds: profiles for a ProfileScheduler, its handler, and its scheduling plugins. */
export interface BuiltPickerConfig {
  readonly profiles: SchedulerProfile[];
  readonly handler?: ProfileHandler;
  readonly preRequestHooks: PreRequestHook[];
  /** Every declared scheduling plugin (filter, scorer, picker, profile handler) by instance name. */
  readonly plugins: ReadonlyMap<string, Plugin>;
}

export interface BuildOptions {
  /** Randomness for pickers and the LoRA filter (default Math.random). */
  readonly rng?: Rng;
}

const isSchedulingKind = (kind: string | undefined): boolean =>
  (SCHEDULING_KINDS as readonly (string | undefined)[]).includes(kind);

/** A problem at a path from the document root. */
function fail(path: readonly (string | number)[], message: string): never {
  throw new FieldIssueError([{ path, message }]);
}

/**
 * Validates the document and builds every plugin it declares, whatever its kind, in order. Throws
 * FieldIssueError with the problems of every declaration.
 */
function declarePlugins(
  spec: unknown,
  rng: Rng,
): { cfg: EndpointPickerConfigSpec; declared: Map<string, BuiltPlugin<GatewayPlugins>> } {
  const parsed = endpointPickerConfigSchema.safeParse(spec);
  if (!parsed.success) throw new FieldIssueError(fieldIssuesFromZod([], parsed.error.issues));
  const cfg = parsed.data;
  const declared = new Map<string, BuiltPlugin<GatewayPlugins>>();
  const issues: FieldIssue[] = [];
  const ctx: PluginContext = { rng, lookup: (name) => declared.get(name) };
  (cfg.plugins ?? []).forEach((p, i) => {
    const name = p.name ?? p.type;
    if (declared.has(name)) {
      const path = ["plugins", i, p.name === undefined ? "type" : "name"];
      issues.push({ path, message: `duplicate plugin name "${name}" (give each instance a distinct name)` });
      return;
    }
    try {
      declared.set(name, BUILTIN_REGISTRY.build(p, ctx));
    } catch (e) {
      if (!(e instanceof FieldIssueError)) throw e;
      issues.push(...prefixIssues(["plugins", i], e.issues));
    }
  });
  if (issues.length > 0) throw new FieldIssueError(issues);
  return { cfg, declared };
}

/**
 * Validates `spec` (a parsed YAML/JSON document), builds its plugins and assembles its scheduling
 * profiles. Throws FieldIssueError (every declaration's problems, else the first of the profiles).
 * Defaults as in the Inference Extension:
 * no profiles → one `default` profile with every declared filter, scorer (weight 1) and picker;
 * a profile without a picker gets max-score-picker.
 */
export function buildEndpointPickerConfig(spec: unknown, options: BuildOptions = {}): BuiltPickerConfig {
  const rng = options.rng ?? Math.random;
  const { cfg, declared } = declarePlugins(spec, rng);
  if (cfg.plugins === undefined || cfg.plugins.length === 0) {
    fail(["plugins"], "a scheduling config needs at least one plugin");
  }
  const filters = new Map<string, Filter>();
  const scorers = new Map<string, Scorer>();
  const pickers = new Map<string, Picker>();
  const handlers: ProfileHandler[] = [];
  const plugins = new Map<string, Plugin>();
  for (const [name, d] of declared) {
    if (d.kind === "filter") filters.set(name, d.plugin);
    else if (d.kind === "scorer") scorers.set(name, d.plugin);
    else if (d.kind === "picker") pickers.set(name, d.plugin);
    else if (d.kind === "profile-handler") handlers.push(d.plugin);
    if (isSchedulingKind(d.kind)) plugins.set(name, d.plugin);
  }
  if (handlers.length > 1) fail(["plugins"], `at most one profile handler (got ${handlers.length})`);

  const profiles: SchedulerProfile[] = [];
  if (cfg.schedulingProfiles === undefined || cfg.schedulingProfiles.length === 0) {
    if (pickers.size > 1) {
      fail(
        ["schedulingProfiles"],
        "several pickers are declared; write a schedulingProfile that references one",
      );
    }
    profiles.push({
      name: "default",
      filters: [...filters.values()],
      scorers: [...scorers.values()].map((scorer) => ({ scorer, weight: 1 })),
      picker: [...pickers.values()][0] ?? new MaxScorePicker(rng),
    });
  } else {
    const seen = new Set<string>();
    cfg.schedulingProfiles.forEach((prof, pi) => {
      if (seen.has(prof.name))
        fail(["schedulingProfiles", pi, "name"], `duplicate profile name "${prof.name}"`);
      seen.add(prof.name);
      const profile: { filters: Filter[]; scorers: WeightedScorer[]; picker?: Picker } = {
        filters: [],
        scorers: [],
      };
      prof.plugins.forEach((ref, ri) => {
        const at = ["schedulingProfiles", pi, "plugins", ri] as const;
        const d = declared.get(ref.pluginRef);
        if (d === undefined) {
          fail(
            [...at, "pluginRef"],
            `no plugin named "${ref.pluginRef}" (declared: ${[...plugins.keys()].join(", ")})`,
          );
        }
        if (!isSchedulingKind(d.kind)) {
          fail([...at, "pluginRef"], `"${ref.pluginRef}" (${d.plugin.type}) is not a scheduling plugin`);
        }
        const scorer = scorers.get(ref.pluginRef);
        if (ref.weight !== undefined && scorer === undefined) {
          fail([...at, "weight"], `weight applies to scorers only; "${ref.pluginRef}" is a ${d.plugin.type}`);
        }
        const filter = filters.get(ref.pluginRef);
        const picker = pickers.get(ref.pluginRef);
        if (filter) profile.filters.push(filter);
        else if (scorer) profile.scorers.push({ scorer, weight: ref.weight ?? 1 });
        else if (picker) {
          if (profile.picker !== undefined) {
            fail([...at, "pluginRef"], `a profile has one picker; "${profile.picker.name}" is already set`);
          }
          profile.picker = picker;
        } else {
          fail([...at, "pluginRef"], `"${ref.pluginRef}" (${d.plugin.type}) cannot be used in a profile`);
        }
      });
      profiles.push({ name: prof.name, ...profile, picker: profile.picker ?? new MaxScorePicker(rng) });
    });
  }
  if (profiles.length > 1) {
    fail(
      ["schedulingProfiles"],
      `${profiles.length} profiles given, but only single-profile-handler exists: use one profile`,
    );
  }
  return {
    profiles,
    ...(handlers[0] ? { handler: handlers[0] } : {}),
    preRequestHooks: [...plugins.values()].filter(isPreRequestHook),
    plugins,
  };
}

/**
 * Whether a document configures scheduling: it has `schedulingProfiles`, or declares a plugin of a
 * scheduling kind. A document with only flow control's plugins and sections leaves the pools'
 * schedulers alone.
 */
export function hasSchedulingSection(raw: Readonly<Record<string, unknown>>): boolean {
  if (raw["schedulingProfiles"] !== undefined) return true;
  const plugins = raw["plugins"];
  return (
    Array.isArray(plugins) &&
    plugins.some((p) => {
      const type = (p as { type?: unknown } | null)?.type;
      return typeof type === "string" && isSchedulingKind(BUILTIN_REGISTRY.kindOf(type));
    })
  );
}

/**
 * The problems of one EndpointPickerConfig document (`raw` with apiVersion and kind), for the
 * config loader; empty when valid. Every declared plugin is checked, of any kind; the profiles when
 * the document configures scheduling. Paths are from the document root.
 */
export function endpointPickerConfigIssues(raw: Readonly<Record<string, unknown>>): readonly FieldIssue[] {
  try {
    if (hasSchedulingSection(raw)) buildEndpointPickerConfig(raw);
    else declarePlugins(raw, Math.random);
    return [];
  } catch (e) {
    if (e instanceof FieldIssueError) return e.issues;
    throw e;
  }
}
