/**
 * The seed's manifests for a pool whose servers run vLLM's `--scheduling-policy priority`: every
 * file of the seed copied unchanged, except that each InferencePool gains the `engine-priority:
 * "true"` annotation, so the gateway sends vLLM's `priority` field. The seed itself stays as it is.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ENGINE_PRIORITY_ANNOTATION } from "../api/inference-pool.ts";

/** vLLM's flag pair the demo adds to the seed's `vllm serve` arguments for an engine-priority phase. */
export const PRIORITY_POLICY_ARGS: readonly string[] = ["--scheduling-policy", "priority"];

/** Writes the seed's YAML files from `seedDir` into `outDir` with the pools annotated; returns `outDir`. */
export function writeEnginePriorityManifests(seedDir: string, outDir: string): string {
  for (const name of readdirSync(seedDir)) {
    if (!/\.ya?ml$/.test(name)) continue;
    const text = readFileSync(join(seedDir, name), "utf8");
    const parsed = parseAllDocuments(text);
    const docs = Array.isArray(parsed) ? parsed : [parsed];
    const pools = docs.filter((doc) => doc.get("kind") === "InferencePool");
    for (const doc of pools) doc.setIn(["metadata", "annotations", ENGINE_PRIORITY_ANNOTATION], "true");
    // Files without a pool (the Deployment with the servers' arguments) are copied byte for byte.
    writeFileSync(
      join(outDir, name),
      pools.length === 0 ? text : docs.map((d) => d.toString()).join("---\n"),
    );
  }
  return outDir;
}
