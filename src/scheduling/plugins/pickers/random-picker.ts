/** random-picker: uniform random order, ignoring scores (the legacy scheduler's final pick). */
import { definePlugin } from "../../../plugins/registry.ts";
import { type Rng, shuffleInPlace } from "../../random.ts";
import type { Candidate, Picker, ScoredCandidate } from "../../types.ts";
import { pickerParameters } from "./max-endpoints.ts";

export class RandomPicker implements Picker {
  readonly type = "random-picker";
  readonly name: string;
  readonly maxNumOfEndpoints: number;
  readonly #rng: Rng;
  constructor(rng: Rng, name = "random-picker", maxNumOfEndpoints = 1) {
    this.#rng = rng;
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }
  pick(scored: readonly ScoredCandidate[]): Candidate[] {
    if (scored.length === 0) return [];
    if (this.maxNumOfEndpoints === 1) return [scored[Math.floor(this.#rng() * scored.length)]!.candidate];
    return shuffleInPlace([...scored], this.#rng)
      .slice(0, this.maxNumOfEndpoints)
      .map((s) => s.candidate);
  }
}

export const randomPickerPlugin = definePlugin({
  type: "random-picker",
  kind: "picker",
  description: "picks uniformly at random; random others as fallbacks",
  parameters: pickerParameters,
  create: (name, p, ctx) => new RandomPicker(ctx.rng, name, p.maxNumOfEndpoints),
});
