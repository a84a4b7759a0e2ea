/** low-queue-filter: keeps endpoints with fewer than `threshold` (default 128) effective waiting requests. */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveWaiting } from "../../effective-load.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class LowQueueFilter implements Filter {
  readonly type = "low-queue-filter";
  readonly name: string;
  readonly threshold: number;
  constructor(name = "low-queue-filter", threshold = 128) {
    this.name = name;
    this.threshold = threshold;
  }
  filter(_request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    return candidates.filter((c) => effectiveWaiting(c) < this.threshold);
  }
}

export const lowQueueFilterPlugin = definePlugin({
  type: "low-queue-filter",
  kind: "filter",
  description: "keeps endpoints whose waiting queue is below threshold (QUEUING_THRESHOLD_LORA, 128)",
  parameters: z.strictObject({ threshold: z.number().int().min(0).default(128) }),
  create: (name, p) => new LowQueueFilter(name, p.threshold),
});
