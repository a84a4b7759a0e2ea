/**
 * `EndpointPickerConfig` (`inference.networking.x-k8s.io/v1alpha1`): plugins declared by type with
 * parameters, assembled into scheduling profiles. Validated with zod; every error names the field
 * (and the file and line when the caller can locate it).
 */
import type { Document, LineCounter } from "yaml";
import { z } from "zod";
import {
  isFilter,
  isPicker,
  isProfileHandler,
  isScorer,
  PluginBuildError,
  type PluginContext,
  type PluginRegistry,
  type ProfileHandler,
} from "./plugin-registry.ts";
import { builtinRegistry } from "./plugins/builtin-plugins.ts";
import { MaxScorePicker } from "./plugins/pickers/max-score-picker.ts";
import type { SchedulerProfile, WeightedScorer } from "./profile-runner.ts";
import type { Rng } from "./random.ts";
import type { Filter, Picker, Plugin, PreRequestHook } from "./types.ts";

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

/** The document's schema. Sections owned by other modules (flow control, data layer) are accepted as-is. */
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
});

export type EndpointPickerConfigSpec = z.infer<typeof endpointPickerConfigSchema>;

/** A field path inside the document, e.g. ["schedulingProfiles", 0, "plugins", 1, "pluginRef"]. */
export type FieldPath = readonly (string | number)[];

/** Where the document came from, to put file and line into errors. */
export interface ConfigSource {
  readonly file?: string;
  /** 1-based line of a field path, when known. */
  readonly locate?: (path: FieldPath) => number | undefined;
}

/** A bad EndpointPickerConfig: `file:line: field: reason`. */
export class EndpointPickerConfigError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** Dotted field, e.g. `plugins[1].parameters.threshold`. */
  readonly field: string;
  /** The same as a path, e.g. ["plugins", 1, "parameters", "threshold"]. */
  readonly path: FieldPath;
  readonly reason: string;
  constructor(path: FieldPath, reason: string, source: ConfigSource = {}) {
    const field = formatPath(path);
    const line = locateNearest(path, source);
    const where = source.file === undefined ? "" : `${source.file}${line === undefined ? "" : `:${line}`}: `;
    super(`${where}EndpointPickerConfig ${field}: ${reason}`);
    this.name = "EndpointPickerConfigError";
    this.file = source.file;
    this.line = line;
    this.field = field;
    this.path = path;
    this.reason = reason;
  }
}

function formatPath(path: FieldPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(document)" : out;
}

/** The line of the deepest located ancestor of `path` (a missing field points at its parent). */
function locateNearest(path: FieldPath, source: ConfigSource): number | undefined {
  if (source.locate === undefined) return undefined;
  for (let n = path.length; n >= 0; n--) {
    const line = source.locate(path.slice(0, n));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** A `locate` for a document parsed by `yaml` with a LineCounter. */
export function yamlLocator(
  doc: Document,
  lineCounter: LineCounter,
): (path: FieldPath) => number | undefined {
  return (path) => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range === undefined ? undefined : lineCounter.linePos(range[0]).line;
  };
}

/** What a config builds: profiles for a ProfileScheduler, its handler and its pre-request hooks. */
export interface BuiltPickerConfig {
  readonly profiles: SchedulerProfile[];
  readonly handler?: ProfileHandler;
  readonly preRequestHooks: PreRequestHook[];
  /** Every declared plugin by instance name. */
  readonly plugins: ReadonlyMap<string, Plugin>;
}

export interface BuildOptions {
  readonly registry?: PluginRegistry;
  /**
   * Plugin types other modules own (e.g. flow control's saturation detectors); they share the
   * `plugins` list, are skipped here, and may not appear in a scheduling profile. Default: none.
   */
  readonly isForeignType?: (type: string) => boolean;
  /** Randomness for pickers and the LoRA filter (default Math.random). */
  readonly rng?: Rng;
  readonly source?: ConfigSource;
}

function isPreRequestHook(p: Plugin): p is PreRequestHook {
  return typeof (p as Partial<PreRequestHook>).preRequest === "function";
}

/**
 * Validates `spec` (a parsed YAML/JSON document) and builds its plugins and profiles.
 * Throws EndpointPickerConfigError on the first problem. Defaults as in the Inference Extension:
 * no profiles → one `default` profile with every declared filter, scorer (weight 1) and picker;
 * a profile without a picker gets max-score-picker.
 */
export function buildEndpointPickerConfig(spec: unknown, options: BuildOptions = {}): BuiltPickerConfig {
  const source = options.source ?? {};
  const parsed = endpointPickerConfigSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EndpointPickerConfigError(
      issue.path.filter((p): p is string | number => typeof p !== "symbol"),
      issue.message,
      source,
    );
  }
  const cfg = parsed.data;
  if (cfg.plugins === undefined || cfg.plugins.length === 0) {
    throw new EndpointPickerConfigError(["plugins"], "a scheduling config needs at least one plugin", source);
  }
  const registry = options.registry ?? builtinRegistry();
  const rng = options.rng ?? Math.random;
  const isForeign = (type: string) =>
    registry.get(type) === undefined && (options.isForeignType?.(type) ?? false);
  const foreign = new Map<string, string>();

  const plugins = new Map<string, Plugin>();
  const ctx: PluginContext = { rng, lookup: (name) => plugins.get(name) };
  const declared = cfg.plugins;
  declared.forEach((p, i) => {
    const name = p.name ?? p.type;
    if (isForeign(p.type)) {
      foreign.set(name, p.type);
      return;
    }
    if (plugins.has(name)) {
      throw new EndpointPickerConfigError(
        ["plugins", i, p.name === undefined ? "type" : "name"],
        `duplicate plugin name "${name}" (give each instance a distinct name)`,
        source,
      );
    }
    try {
      plugins.set(name, registry.create(p.type, name, p.parameters, ctx));
    } catch (e) {
      if (e instanceof PluginBuildError)
        throw new EndpointPickerConfigError(["plugins", i, ...e.path], e.message, source);
      throw e;
    }
  });

  const handlers = [...plugins.values()].filter(isProfileHandler);
  if (handlers.length > 1) {
    throw new EndpointPickerConfigError(
      ["plugins"],
      `at most one profile handler (got ${handlers.length})`,
      source,
    );
  }
  const handler = handlers[0];

  const profiles: SchedulerProfile[] = [];
  if (cfg.schedulingProfiles === undefined || cfg.schedulingProfiles.length === 0) {
    const all = [...plugins.values()];
    const pickers = all.filter(isPicker);
    if (pickers.length > 1) {
      throw new EndpointPickerConfigError(
        ["schedulingProfiles"],
        "several pickers are declared; write a schedulingProfile that references one",
        source,
      );
    }
    profiles.push({
      name: "default",
      filters: all.filter(isFilter),
      scorers: all.filter(isScorer).map((scorer) => ({ scorer, weight: 1 })),
      picker: pickers[0] ?? new MaxScorePicker(rng),
    });
  } else {
    const seen = new Set<string>();
    cfg.schedulingProfiles.forEach((prof, pi) => {
      if (seen.has(prof.name)) {
        throw new EndpointPickerConfigError(
          ["schedulingProfiles", pi, "name"],
          `duplicate profile name "${prof.name}"`,
          source,
        );
      }
      seen.add(prof.name);
      const filters: Filter[] = [];
      const scorers: WeightedScorer[] = [];
      let picker: Picker | undefined;
      prof.plugins.forEach((ref, ri) => {
        const at = ["schedulingProfiles", pi, "plugins", ri] as const;
        const p = plugins.get(ref.pluginRef);
        const foreignType = foreign.get(ref.pluginRef);
        if (foreignType !== undefined) {
          throw new EndpointPickerConfigError(
            [...at, "pluginRef"],
            `"${ref.pluginRef}" (${foreignType}) is not a scheduling plugin`,
            source,
          );
        }
        if (p === undefined) {
          throw new EndpointPickerConfigError(
            [...at, "pluginRef"],
            `no plugin named "${ref.pluginRef}" (declared: ${[...plugins.keys()].join(", ")})`,
            source,
          );
        }
        if (ref.weight !== undefined && !isScorer(p)) {
          throw new EndpointPickerConfigError(
            [...at, "weight"],
            `weight applies to scorers only; "${ref.pluginRef}" is a ${p.type}`,
            source,
          );
        }
        if (isFilter(p)) filters.push(p);
        else if (isScorer(p)) scorers.push({ scorer: p, weight: ref.weight ?? 1 });
        else if (isPicker(p)) {
          if (picker !== undefined) {
            throw new EndpointPickerConfigError(
              [...at, "pluginRef"],
              `a profile has one picker; "${picker.name}" is already set`,
              source,
            );
          }
          picker = p;
        } else {
          throw new EndpointPickerConfigError(
            [...at, "pluginRef"],
            `"${ref.pluginRef}" (${p.type}) cannot be used in a profile`,
            source,
          );
        }
      });
      profiles.push({ name: prof.name, filters, scorers, picker: picker ?? new MaxScorePicker(rng) });
    });
  }
  if (profiles.length > 1) {
    throw new EndpointPickerConfigError(
      ["schedulingProfiles"],
      `${profiles.length} profiles given, but only single-profile-handler exists: use one profile`,
      source,
    );
  }
  return {
    profiles,
    ...(handler ? { handler } : {}),
    preRequestHooks: [...plugins.values()].filter(isPreRequestHook),
    plugins,
  };
}

/**
 * Whether a document configures scheduling: it has `schedulingProfiles`, or a plugin that is not
 * another module's (`isForeignType`). A document with only flow control's plugins and sections
 * leaves the pools' schedulers alone.
 */
export function hasSchedulingSection(
  raw: Readonly<Record<string, unknown>>,
  isForeignType: (type: string) => boolean,
): boolean {
  if (raw["schedulingProfiles"] !== undefined) return true;
  const plugins = raw["plugins"];
  return (
    Array.isArray(plugins) &&
    plugins.some((p) => {
      const type = (p as { type?: unknown } | null)?.type;
      return typeof type !== "string" || !isForeignType(type);
    })
  );
}

/** The first problem of an EndpointPickerConfig document, for the config loader; undefined when valid. */
export function endpointPickerConfigProblem(
  spec: Readonly<Record<string, unknown>>,
  isForeignType: (type: string) => boolean,
): { path: FieldPath; reason: string } | undefined {
  if (!hasSchedulingSection(spec, isForeignType)) return undefined;
  try {
    buildEndpointPickerConfig(spec, { isForeignType });
    return undefined;
  } catch (e) {
    if (e instanceof EndpointPickerConfigError) return { path: e.path, reason: e.reason };
    throw e;
  }
}
