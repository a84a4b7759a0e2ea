/** queue-scorer: (maxQ − q) / (maxQ − minQ) over effective waiting requests; 1 for all when equal. */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveWaiting } from "../../effective-load.ts";
import type { Candidate, SchedulingRequest, Scorer } from "../../types.ts";
import { invertedMinMax } from "./min-max.ts";

export class QueueScorer implements Scorer {
  readonly type = "queue-scorer";
  readonly name: string;
  constructor(name = "queue-scorer") {
    this.name = name;
  }
  score(_request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    return invertedMinMax(candidates.map((c) => effectiveWaiting(c)));
  }
}

export const queueScorerPlugin = definePlugin({
  type: "queue-scorer",
  kind: "scorer",
  description: "prefers endpoints with fewer waiting requests (min-max normalised)",
  parameters: z.strictObject({}),
  create: (name) => new QueueScorer(name),
});
