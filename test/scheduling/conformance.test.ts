// Runs the shared conformance suite over every built-in filter, scorer and picker of the registry,
// so a newly registered plugin is covered without touching this file.

import { after } from "node:test";
import { BUILTIN_REGISTRY } from "../../src/plugins/builtin-registry.ts";
import { isCloseable } from "../../src/plugins/capabilities.ts";
import type { DeclaredPlugin, Plugin } from "../../src/plugins/registry.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Filter, Picker, Scorer } from "../../src/scheduling/types.ts";
import { filterConformance, pickerConformance, scorerConformance } from "./conformance.ts";

/** Parameters for types that cannot be built from defaults, and declared helpers they reference. */
const PARAMS: Record<string, unknown> = {
  "decision-tree-filter": {
    current: { pluginRef: "low-queue-filter" },
    nextOnSuccess: {
      current: { pluginRef: "lora-affinity-filter" },
      nextOnSuccessOrFailure: { pluginRef: "least-queue-filter" },
    },
    nextOnFailure: { pluginRef: "least-kv-cache-filter" },
  },
  "precise-prefix-cache-scorer": { hashSeed: "0" },
};

/** The last plugin built, if it holds sockets: closed when the next is built (each is used at once). */
let open: { close(): void } | undefined;
after(() => open?.close());

function build(type: string, seed: number, params?: unknown): Plugin {
  open?.close();
  open = undefined;
  const rng = seededRng(seed);
  const declared = new Map<string, DeclaredPlugin>();
  const ctx = { rng, lookup: (n: string) => declared.get(n) };
  for (const t of [
    "low-queue-filter",
    "lora-affinity-filter",
    "least-queue-filter",
    "least-kv-cache-filter",
  ]) {
    declared.set(t, BUILTIN_REGISTRY.build({ type: t }, ctx));
  }
  const plugin = BUILTIN_REGISTRY.build({ type, parameters: params ?? PARAMS[type] }, ctx).plugin;
  if (isCloseable(plugin)) open = plugin;
  return plugin;
}

for (const def of BUILTIN_REGISTRY.definitions()) {
  if (def.kind === "filter") filterConformance(def.type, (seed) => build(def.type, seed) as Filter);
  if (def.kind === "scorer") scorerConformance(def.type, (seed) => build(def.type, seed) as Scorer);
  if (def.kind === "picker") {
    pickerConformance(def.type, (seed) => build(def.type, seed) as Picker, 1);
    pickerConformance(
      `${def.type} (maxNumOfEndpoints 3)`,
      (seed) => build(def.type, seed, { maxNumOfEndpoints: 3 }) as Picker,
      3,
    );
  }
}
