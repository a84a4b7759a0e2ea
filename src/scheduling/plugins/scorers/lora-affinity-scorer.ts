/**
 * lora-affinity-scorer: for an adapter request, 1.0 where the adapter is running, 0.8 where a slot
 * is free (active + waiting < max_lora), 0.6 where it is only waiting, else 0. Requests for the base
 * model score 1 everywhere (neutral).
 */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Candidate, SchedulingRequest, Scorer } from "../../types.ts";

/** The affinity of one endpoint for an adapter, per the table above. */
export function loraAffinity(adapter: string, c: Candidate): number {
  const m = c.metrics;
  if (m.activeAdapters.has(adapter)) return 1;
  if (m.activeAdapters.size + m.waitingAdapters.size < m.maxActiveAdapters) return 0.8;
  if (m.waitingAdapters.has(adapter)) return 0.6;
  return 0;
}

export class LoraAffinityScorer implements Scorer {
  readonly type = "lora-affinity-scorer";
  readonly name: string;
  constructor(name = "lora-affinity-scorer") {
    this.name = name;
  }
  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    if (!request.isAdapter) return candidates.map(() => 1);
    return candidates.map((c) => loraAffinity(request.targetModel, c));
  }
}

export const loraAffinityScorerPlugin = definePlugin({
  type: "lora-affinity-scorer",
  kind: "scorer",
  description:
    "prefers endpoints with the request's LoRA adapter loaded (1.0), then a free slot (0.8), then queued (0.6)",
  parameters: z.strictObject({}),
  create: (name) => new LoraAffinityScorer(name),
});
