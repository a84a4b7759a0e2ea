/**
 * The one plugin registry, for every plugin kind: scheduling's filters, scorers, pickers and
 * profile handlers, flow control's saturation detectors, fairness and ordering policies and queues.
 * A plugin type is registered by kebab-case name with its kind, a one-line description and a zod
 * schema for its `parameters`, as the Gateway API Inference Extension's EndpointPickerConfig writes
 * them. The built-ins are composed in `builtin-registry.ts`; each family lists its own in one file.
 */
import type { z } from "zod";
import { FieldIssueError } from "../config/field-issue.ts";
import { fieldIssuesFromZod } from "./zod-issues.ts";

/** Common to every plugin instance: its registry type and its instance name. */
export interface Plugin {
  readonly type: string;
  readonly name: string;
}

/** A plugin as a config writes it: `type`, instance `name` (default: the type) and raw `parameters`. */
export interface PluginSpec {
  readonly type: string;
  readonly name?: string | undefined;
  readonly parameters?: unknown;
}

/** A plugin built from a config, with its kind (a kind, not a method's presence, says what it is). */
export interface DeclaredPlugin {
  readonly kind: string;
  readonly plugin: Plugin;
}

/** Given to factories: seeded randomness and the plugins declared before this one. */
export interface PluginContext {
  /** Uniform numbers in [0, 1); Math.random unless a test or benchmark seeds it. */
  readonly rng: () => number;
  /** A plugin declared earlier in the same config, by instance name. */
  lookup(name: string): DeclaredPlugin | undefined;
}

/** One registered plugin type; `create` gets parameters already validated by `parameters`. */
export interface PluginDefinition<
  K extends string = string,
  S extends z.ZodType = z.ZodType,
  P extends Plugin = Plugin,
> {
  readonly type: string;
  readonly kind: K;
  /** One line for docs and error messages. */
  readonly description: string;
  readonly parameters: S;
  /** May throw FieldIssueError with paths from the plugin entry (e.g. ["parameters", "current"]). */
  create(name: string, params: z.output<S>, ctx: PluginContext): P;
}

/** Declares a definition, keeping `create`'s parameters typed by the schema. */
export function definePlugin<K extends string, S extends z.ZodType, P extends Plugin>(
  def: PluginDefinition<K, S, P>,
): PluginDefinition<K, z.ZodType, P> {
  return def;
}

/** A kind map: kind name → the interface its instances implement (e.g. `{ scorer: Scorer }`). */
export type PluginKinds<M> = { readonly [K in keyof M]: Plugin };

/** A definition of any kind of `M`, with an instance of that kind. */
export type DefinitionOf<M extends PluginKinds<M>> = {
  [K in keyof M & string]: PluginDefinition<K, z.ZodType, M[K]>;
}[keyof M & string];

/** A built plugin of any kind of `M`, narrowed by `kind`. */
export type BuiltPlugin<M extends PluginKinds<M>> = {
  [K in keyof M & string]: { readonly kind: K; readonly plugin: M[K] };
}[keyof M & string];

const NO_CONTEXT: PluginContext = { rng: Math.random, lookup: () => undefined };

/** Type name → definition, for the kinds of `M`. Immutable once built. */
export class PluginRegistry<M extends PluginKinds<M>> {
  readonly #defs = new Map<string, DefinitionOf<M>>();

  /** Throws if two definitions share a type name. */
  constructor(definitions: readonly DefinitionOf<M>[]) {
    for (const def of definitions) {
      if (this.#defs.has(def.type)) throw new Error(`plugin type "${def.type}" is registered twice`);
      this.#defs.set(def.type, def);
    }
  }

  get(type: string): DefinitionOf<M> | undefined {
    return this.#defs.get(type);
  }

  /** The kind of a registered type; undefined when unknown. */
  kindOf(type: string): (keyof M & string) | undefined {
    return this.#defs.get(type)?.kind;
  }

  /** Every definition, in registration order (conformance suites, docs). */
  definitions(): DefinitionOf<M>[] {
    return [...this.#defs.values()];
  }

  /** Type names of `kinds` (all kinds when omitted), in registration order. */
  types(kinds?: readonly (keyof M)[]): string[] {
    return this.definitions()
      .filter((d) => kinds === undefined || kinds.includes(d.kind))
      .map((d) => d.type);
  }

  /**
   * Builds `spec` whatever its kind. Throws FieldIssueError with paths relative to the spec:
   * ["type"] for an unknown type (`what` names it in the message), ["parameters", …] for bad ones.
   */
  build(spec: PluginSpec, ctx: PluginContext = NO_CONTEXT, what = "plugin type"): BuiltPlugin<M> {
    const def = this.#defs.get(spec.type);
    if (def === undefined) {
      throw new FieldIssueError([
        { path: ["type"], message: `unknown ${what} "${spec.type}" (known: ${this.types().join(", ")})` },
      ]);
    }
    return { kind: def.kind, plugin: this.#create(def, spec, ctx) } as BuiltPlugin<M>;
  }

  /**
   * Builds `spec` as a plugin of `kind`; `what` names the kind in messages ("fairness policy").
   * Throws FieldIssueError: ["type"] when the type is unknown or of another kind, ["parameters", …].
   */
  create<K extends keyof M & string>(spec: PluginSpec, kind: K, what: string, ctx = NO_CONTEXT): M[K] {
    const def = this.#defs.get(spec.type);
    if (def?.kind !== kind) {
      const known = this.types([kind]).join(", ");
      const message =
        def === undefined
          ? `unknown ${what} "${spec.type}" (known: ${known})`
          : `"${spec.type}" is a ${def.kind}, not a ${what} (known: ${known})`;
      throw new FieldIssueError([{ path: ["type"], message }]);
    }
    return this.#create(def, spec, ctx) as M[K];
  }

  #create(def: DefinitionOf<M>, spec: PluginSpec, ctx: PluginContext): Plugin {
    const parsed = def.parameters.safeParse(spec.parameters ?? {});
    if (!parsed.success)
      throw new FieldIssueError(fieldIssuesFromZod(["parameters"], parsed.error.issues, def.parameters));
    return def.create(spec.name ?? spec.type, parsed.data, ctx);
  }
}
