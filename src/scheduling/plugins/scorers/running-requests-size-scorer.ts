/** running-requests-size-scorer: min-max over effective running requests (fewer is better). */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveRunning } from "../../effective-load.ts";
import type { Candidate, SchedulingRequest, Scorer } from "../../types.ts";
import { invertedMinMax } from "./min-max.ts";

export class RunningRequestsSizeScorer implements Scorer {
  readonly type = "running-requests-size-scorer";
  readonly name: string;
  constructor(name = "running-requests-size-scorer") {
    this.name = name;
  }
  score(_request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    return invertedMinMax(candidates.map((c) => effectiveRunning(c)));
  }
}

export const runningRequestsSizeScorerPlugin = definePlugin({
  type: "running-requests-size-scorer",
  kind: "scorer",
  description: "prefers endpoints with fewer running requests (min-max normalised)",
  parameters: z.strictObject({}),
  create: (name) => new RunningRequestsSizeScorer(name),
});
