// Runs the shared conformance suite over every built-in filter, scorer and picker of the registry,
// so a newly registered plugin is covered without touching this file.

import { isFilter, isPicker, isScorer } from "../../src/scheduling/plugin-registry.ts";
import { BUILTIN_PLUGINS, builtinRegistry } from "../../src/scheduling/plugins/builtin-plugins.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Filter, Picker, Plugin, Scorer } from "../../src/scheduling/types.ts";
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
};

function build(type: string, seed: number, params?: unknown): Plugin {
  const registry = builtinRegistry();
  const rng = seededRng(seed);
  const declared = new Map<string, Plugin>();
  const ctx = { rng, lookup: (n: string) => declared.get(n) };
  for (const t of [
    "low-queue-filter",
    "lora-affinity-filter",
    "least-queue-filter",
    "least-kv-cache-filter",
  ]) {
    declared.set(t, registry.create(t, t, {}, ctx));
  }
  return registry.create(type, type, params ?? PARAMS[type], ctx);
}

for (const def of BUILTIN_PLUGINS) {
  const sample = build(def.type, 1);
  if (isFilter(sample)) filterConformance(def.type, (seed) => build(def.type, seed) as Filter);
  if (isScorer(sample)) scorerConformance(def.type, (seed) => build(def.type, seed) as Scorer);
  if (isPicker(sample)) {
    pickerConformance(def.type, (seed) => build(def.type, seed) as Picker, 1);
    pickerConformance(
      `${def.type} (maxNumOfEndpoints 3)`,
      (seed) => build(def.type, seed, { maxNumOfEndpoints: 3 }) as Picker,
      3,
    );
  }
}
