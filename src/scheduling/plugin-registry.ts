/**
 * The plugin registry: factories by kebab-case type name, each with a zod schema for its
 * `parameters`, as in the Gateway API Inference Extension's EndpointPickerConfig.
 */
import type { z } from "zod";
import type { SchedulerProfile } from "./profile-runner.ts";
import type { Rng } from "./random.ts";
import type { Filter, Picker, Plugin, SchedulingRequest, Scorer } from "./types.ts";

/** What a plugin is for; decides where it may appear in a profile. */
export type PluginKind = "filter" | "scorer" | "picker" | "profile-handler";

/** Chooses which profile runs for a request. */
export interface ProfileHandler extends Plugin {
  selectProfile(request: SchedulingRequest, profiles: readonly SchedulerProfile[]): SchedulerProfile;
}

/** Given to factories: the seeded randomness and the plugins declared before this one. */
export interface PluginContext {
  readonly rng: Rng;
  /** A plugin instance declared earlier in the same config, by instance name. */
  lookup(name: string): Plugin | undefined;
}

/** One registered plugin type. */
export interface PluginDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly kind: PluginKind;
  /** One line for docs and error messages. */
  readonly description: string;
  readonly parameters: S;
  create(name: string, params: z.output<S>, ctx: PluginContext): Plugin;
}

/** Typed helper to declare a definition (keeps `create`'s params typed by the schema). */
export function definePlugin<S extends z.ZodType>(def: PluginDefinition<S>): PluginDefinition {
  return def as unknown as PluginDefinition;
}

/** Why a plugin could not be built: `path` is relative to the plugin entry (e.g. ["parameters","threshold"]). */
export class PluginBuildError extends Error {
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.name = "PluginBuildError";
    this.path = path;
  }
}

/** Type name → definition. */
export class PluginRegistry {
  readonly #defs = new Map<string, PluginDefinition>();

  /** Adds a definition; throws if the type is already registered. */
  register(def: PluginDefinition): this {
    if (this.#defs.has(def.type)) throw new Error(`plugin type "${def.type}" is already registered`);
    this.#defs.set(def.type, def);
    return this;
  }

  get(type: string): PluginDefinition | undefined {
    return this.#defs.get(type);
  }

  /** Registered type names, sorted. */
  types(): string[] {
    return [...this.#defs.keys()].sort();
  }

  /** Builds one plugin; throws PluginBuildError naming the bad field. */
  create(type: string, name: string, parameters: unknown, ctx: PluginContext): Plugin {
    const def = this.#defs.get(type);
    if (def === undefined) {
      throw new PluginBuildError(
        ["type"],
        `unknown plugin type "${type}" (known: ${this.types().join(", ")})`,
      );
    }
    const parsed = def.parameters.safeParse(parameters ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
      throw new PluginBuildError(["parameters", ...path], `${type}: ${issue.message}`);
    }
    return def.create(name, parsed.data, ctx);
  }
}

/** Kind guards: a plugin may implement several extension points (prefix-cache-scorer is also a hook). */
export function isFilter(p: Plugin): p is Filter {
  return typeof (p as Partial<Filter>).filter === "function";
}
export function isScorer(p: Plugin): p is Scorer {
  return typeof (p as Partial<Scorer>).score === "function";
}
export function isPicker(p: Plugin): p is Picker {
  return typeof (p as Partial<Picker>).pick === "function";
}
export function isProfileHandler(p: Plugin): p is ProfileHandler {
  return typeof (p as Partial<ProfileHandler>).selectProfile === "function";
}
