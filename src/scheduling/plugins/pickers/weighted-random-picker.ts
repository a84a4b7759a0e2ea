/**
 * weighted-random-picker: picks with probability proportional to score (A-Res: key = u^(1/score),
 * highest keys first); zero-score endpoints come last in random order, so all-zero is uniform.
 */
import { definePlugin } from "../../../plugins/registry.ts";
import type { Rng } from "../../random.ts";
import type { Candidate, Picker, ScoredCandidate } from "../../types.ts";
import { pickerParameters } from "./max-endpoints.ts";

export class WeightedRandomPicker implements Picker {
  readonly type = "weighted-random-picker";
  readonly name: string;
  readonly maxNumOfEndpoints: number;
  readonly #rng: Rng;
  constructor(rng: Rng, name = "weighted-random-picker", maxNumOfEndpoints = 1) {
    this.#rng = rng;
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }
  pick(scored: readonly ScoredCandidate[]): Candidate[] {
    const keyed = scored.map((s) => {
      const u = this.#rng();
      // Positive scores get keys in (0, 1]; the rest get keys in (-1, 0], below every positive one.
      const key = s.score > 0 ? u ** (1 / s.score) : u - 1;
      return { candidate: s.candidate, key };
    });
    keyed.sort((a, b) => b.key - a.key);
    return keyed.slice(0, this.maxNumOfEndpoints).map((k) => k.candidate);
  }
}

export const weightedRandomPickerPlugin = definePlugin({
  type: "weighted-random-picker",
  kind: "picker",
  description: "picks at random with probability proportional to total score",
  parameters: pickerParameters,
  create: (name, p, ctx) => new WeightedRandomPicker(ctx.rng, name, p.maxNumOfEndpoints),
});
