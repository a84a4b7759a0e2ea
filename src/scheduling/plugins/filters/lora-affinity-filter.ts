/**
 * lora-affinity-filter: for an adapter request, with probability `threshold` (0.999) keeps the
 * endpoints that have the adapter (running or waiting), otherwise those with a free adapter slot;
 * when one group is empty the other is kept. Base-model requests pass through unchanged.
 */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Rng } from "../../random.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class LoraAffinityFilter implements Filter {
  readonly type = "lora-affinity-filter";
  readonly name: string;
  readonly threshold: number;
  readonly #rng: Rng;
  constructor(rng: Rng, name = "lora-affinity-filter", threshold = 0.999) {
    this.name = name;
    this.threshold = threshold;
    this.#rng = rng;
  }
  filter(request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    if (!request.isAdapter) return [...candidates];
    const affinity: Candidate[] = [];
    const available: Candidate[] = [];
    for (const c of candidates) {
      const m = c.metrics;
      if (m.activeAdapters.has(request.targetModel) || m.waitingAdapters.has(request.targetModel)) {
        affinity.push(c);
      } else if (m.activeAdapters.size + m.waitingAdapters.size < m.maxActiveAdapters) {
        available.push(c);
      }
    }
    if (affinity.length > 0 && available.length > 0) {
      return this.#rng() < this.threshold ? affinity : available;
    }
    return affinity.length > 0 ? affinity : available;
  }
}

export const loraAffinityFilterPlugin = definePlugin({
  type: "lora-affinity-filter",
  kind: "filter",
  description:
    "keeps endpoints with the adapter loaded (probability threshold, 0.999), else ones with a free slot",
  parameters: z.strictObject({ threshold: z.number().min(0).max(1).default(0.999) }),
  create: (name, p, ctx) => new LoraAffinityFilter(ctx.rng, name, p.threshold),
});
