/** max-score-picker: highest total score first, ties broken at random; the next best are fallbacks. O(n·k). */
import { definePlugin } from "../../../plugins/registry.ts";
import type { Rng } from "../../random.ts";
import type { Candidate, Picker, ScoredCandidate } from "../../types.ts";
import { pickerParameters } from "./max-endpoints.ts";

export class MaxScorePicker implements Picker {
  readonly type = "max-score-picker";
  readonly name: string;
  readonly maxNumOfEndpoints: number;
  readonly #rng: Rng;
  constructor(rng: Rng, name = "max-score-picker", maxNumOfEndpoints = 1) {
    this.#rng = rng;
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }
  pick(scored: readonly ScoredCandidate[]): Candidate[] {
    if (this.maxNumOfEndpoints === 1) {
      // One pass: reservoir-sample among the maxima (same distribution as shuffle + sort).
      let best: ScoredCandidate | undefined;
      let ties = 0;
      for (const s of scored) {
        if (best === undefined || s.score > best.score) {
          best = s;
          ties = 1;
        } else if (s.score === best.score && this.#rng() * ++ties < 1) {
          best = s;
        }
      }
      return best === undefined ? [] : [best.candidate];
    }
    // Top-k in one pass; a random tie key per candidate gives random order among equal scores.
    const k = this.maxNumOfEndpoints;
    const top: { s: ScoredCandidate; tie: number }[] = [];
    for (const s of scored) {
      const last = top[top.length - 1];
      if (top.length === k && last !== undefined && s.score < last.s.score) continue;
      const entry = { s, tie: this.#rng() };
      let at = top.length;
      while (at > 0) {
        const prev = top[at - 1]!;
        if (prev.s.score > s.score || (prev.s.score === s.score && prev.tie >= entry.tie)) break;
        at--;
      }
      if (at >= k) continue;
      top.splice(at, 0, entry);
      if (top.length > k) top.pop();
    }
    return top.map((e) => e.s.candidate);
  }
}

export const maxScorePickerPlugin = definePlugin({
  type: "max-score-picker",
  kind: "picker",
  description: "picks the highest total score (random among ties); next best as fallbacks",
  parameters: pickerParameters,
  create: (name, p, ctx) => new MaxScorePicker(ctx.rng, name, p.maxNumOfEndpoints),
});
