/**
 * Reads the seed's model-server Deployment (examples/seed/vllm-service.yaml): the `vllm serve`
 * arguments of its container, its replica count and pod labels — so the demo starts its simulated
 * servers exactly as the seed starts vLLM.
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/** What the demo takes from the seed's Deployment. */
export interface SeedDeployment {
  /** Arguments after `vllm serve` (the model path first), as written. */
  readonly vllmArgs: readonly string[];
  readonly replicas: number;
  /** Pod template labels (what the InferencePool selects). */
  readonly labels: Readonly<Record<string, string>>;
}

interface DeploymentDoc {
  kind?: string;
  spec?: {
    replicas?: number;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: { command?: string[]; args?: string[] }[] };
    };
  };
}

/** Parses the first Deployment whose container runs `vllm serve`; throws naming the file otherwise. */
export function readSeedDeployment(file: string): SeedDeployment {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const d = doc.toJS() as DeploymentDoc | null;
    if (d?.kind !== "Deployment") continue;
    for (const c of d.spec?.template?.spec?.containers ?? []) {
      const line = [...(c.command ?? []), ...(c.args ?? [])].join(" ");
      const at = line.indexOf("vllm serve ");
      if (at < 0) continue;
      return {
        vllmArgs: line
          .slice(at + "vllm serve ".length)
          .trim()
          .split(/\s+/),
        replicas: d.spec?.replicas ?? 1,
        labels: d.spec?.template?.metadata?.labels ?? {},
      };
    }
  }
  throw new Error(`${file}: no Deployment whose container runs "vllm serve"`);
}
