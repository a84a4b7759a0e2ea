/**
 * Runs one scheduling profile: filters in order, then every scorer (each score clamped to [0, 1],
 * total = Σ weight × score), then the picker. Optionally explains the decision and times each plugin.
 */

import type { Plugin } from "../plugins/registry.ts";
import {
  type Candidate,
  type CandidateExplanation,
  type DecisionExplanation,
  type Filter,
  MAX_EXPLAINED_CANDIDATES,
  type Picker,
  type SchedulingRequest,
  type Scorer,
} from "./types.ts";

/** A scorer and its weight in a profile (weight ≥ 0). */
export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/** Filters → weighted scorers → one picker. */
export interface SchedulerProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
}

/** Receives each plugin call's duration in seconds (for the per-plugin latency histogram). */
export type PluginObserver = (
  extensionPoint: "filter" | "scorer" | "picker",
  plugin: Plugin,
  seconds: number,
) => void;

export interface RunOptions {
  /** Build a DecisionExplanation (costs one extra pass over the scores). */
  explain?: boolean;
  observe?: PluginObserver;
  /** Candidates removed before the profile ran (stale), added to filteredOut. */
  removedBefore?: number;
}

export interface ProfileRun {
  /** Target first, then fallbacks; empty when the filters kept nothing. */
  readonly endpoints: Candidate[];
  /** Candidates left after the filters (0 = every candidate was filtered out). */
  readonly eligible: number;
  readonly explanation?: DecisionExplanation;
}

function clamp01(x: number): number {
  return Number.isNaN(x) ? 0 : Math.min(1, Math.max(0, x));
}

/** A ScoredCandidate the runner fills again at every decision of its profile. */
interface ScoredSlot {
  candidate: Candidate;
  score: number;
}

/** Per profile: the slots, and the n-long list of them the last decision handed the picker. */
const SLOTS = new WeakMap<SchedulerProfile, { slots: ScoredSlot[]; list: ScoredSlot[] }>();

/**
 * n scored slots for one decision of `profile`, reused from its last decision (no object per
 * candidate per decision: they were a quarter of what a decision allocated). A picker reads them
 * only during pick() (Picker's contract); decisions do not nest.
 */
function scoredSlots(profile: SchedulerProfile, n: number, filler: Candidate): ScoredSlot[] {
  let cache = SLOTS.get(profile);
  if (cache === undefined) {
    cache = { slots: [], list: [] };
    SLOTS.set(profile, cache);
  }
  while (cache.slots.length < n) cache.slots.push({ candidate: filler, score: 0 });
  if (cache.list.length !== n) cache.list = cache.slots.slice(0, n);
  return cache.list;
}

/** Runs `profile` over `candidates` for `request`. Never invents endpoints. */
export function runProfile(
  profile: SchedulerProfile,
  request: SchedulingRequest,
  candidates: readonly Candidate[],
  options: RunOptions = {},
): ProfileRun {
  const observe = options.observe;
  let current: readonly Candidate[] = candidates;
  for (const f of profile.filters) {
    if (current.length === 0) break;
    const t0 = observe ? performance.now() : 0;
    current = f.filter(request, current);
    if (observe) observe("filter", f, (performance.now() - t0) / 1000);
  }
  if (current.length === 0) return { endpoints: [], eligible: 0 };

  const n = current.length;
  const totals = new Float64Array(n);
  const perScorer: Float64Array[] = [];
  for (const { scorer, weight } of profile.scorers) {
    // A scorer of weight 0 cannot move a total: it runs only to be explained or timed.
    if (weight === 0 && !options.explain && !observe) continue;
    const t0 = observe ? performance.now() : 0;
    const raw = scorer.score(request, current);
    if (observe) observe("scorer", scorer, (performance.now() - t0) / 1000);
    if (options.explain) {
      const clamped = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const s = clamp01(raw[i] ?? 0);
        clamped[i] = s;
        totals[i]! += weight * s;
      }
      perScorer.push(clamped);
    } else if (weight !== 0) {
      for (let i = 0; i < n; i++) totals[i]! += weight * clamp01(raw[i] ?? 0);
    }
  }
  const scored = scoredSlots(profile, n, current[0]!);
  for (let i = 0; i < n; i++) {
    const slot = scored[i]!;
    slot.candidate = current[i]!;
    slot.score = totals[i]!;
  }
  const t0 = observe ? performance.now() : 0;
  const picked = profile.picker.pick(scored);
  if (observe) observe("picker", profile.picker, (performance.now() - t0) / 1000);
  // Guard the contract: only candidates of this run, each once.
  const endpoints: Candidate[] = [];
  for (const c of picked) if (!endpoints.includes(c) && current.includes(c)) endpoints.push(c);

  if (!options.explain || endpoints.length === 0) return { endpoints, eligible: n };
  const explanation = explain(profile, current, totals, perScorer, current.indexOf(endpoints[0]!));
  return {
    endpoints,
    eligible: n,
    explanation: { ...explanation, filteredOut: candidates.length - n + (options.removedBefore ?? 0) },
  };
}

/** The chosen candidate, then the others by total (best first), each with its per-scorer scores. */
function explain(
  profile: SchedulerProfile,
  scored: readonly Candidate[],
  totals: Float64Array,
  perScorer: readonly Float64Array[],
  chosenIndex: number,
): Omit<DecisionExplanation, "filteredOut"> {
  const rest: number[] = [];
  for (let i = 0; i < scored.length; i++) if (i !== chosenIndex) rest.push(i);
  rest.sort((a, b) => totals[b]! - totals[a]!);
  const describe = (i: number): CandidateExplanation => {
    const scores: Record<string, number> = {};
    profile.scorers.forEach((s, k) => {
      scores[s.scorer.name] = perScorer[k]![i]!;
    });
    return { endpoint: scored[i]!.endpoint.id, total: totals[i]!, scores };
  };
  const listed = rest.slice(0, MAX_EXPLAINED_CANDIDATES - 1);
  const others = listed.slice(1).map(describe);
  const omitted = rest.length - listed.length;
  return {
    profile: profile.name,
    chosen: describe(chosenIndex),
    ...(listed.length > 0 ? { runnerUp: describe(listed[0]!) } : {}),
    ...(others.length > 0 ? { others } : {}),
    ...(omitted > 0 ? { omitted } : {}),
  };
}
