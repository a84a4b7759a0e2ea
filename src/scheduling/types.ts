/**
 * Scheduling contracts: a profile runs Filters, then weighted Scorers, then one Picker over the
 * candidate endpoints of a pool. Implementations live in scheduling/plugins/ and are built from a
 * registry by kebab-case type name (see the Gateway API Inference Extension's EndpointPickerConfig).
 */
import type { Endpoint } from "../datastore/endpoint.ts";
import type { EndpointMetrics, InFlight } from "../modelserver/endpoint-metrics.ts";
import type { Plugin } from "../plugins/registry.ts";
import type { SchedulerProfile } from "./profile-runner.ts";

/** An endpoint as the scheduler sees it: identity, last scraped load, the gateway's in-flight work. */
export interface Candidate {
  readonly endpoint: Endpoint;
  readonly metrics: EndpointMetrics;
  readonly inFlight: InFlight;
  /** True when metrics are older than the staleness threshold (or were never scraped). */
  readonly stale: boolean;
}

/** What scheduling knows about one request. Built once by the director. */
export interface SchedulingRequest {
  readonly requestId: string;
  /** The model name the engine will see (after InferenceModel / rewrite), e.g. a LoRA adapter. */
  readonly targetModel: string;
  /** True when targetModel is a LoRA adapter rather than the pool's base model (unknown = false). */
  readonly isAdapter: boolean;
  /** Priority: higher is more important; Critical > 0, Standard 0, Sheddable < 0. */
  readonly priority: number;
  /** Text used for prefix affinity: the prompt, or the canonicalised chat messages. */
  readonly prefixText: string;
  /** Estimated prompt tokens (chars / 4 when unknown). */
  readonly promptTokens: number;
  /** The request's `max_tokens` / `max_completion_tokens`, when given. */
  readonly maxTokens?: number;
  /** Lower-cased request headers after control headers were removed. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Keeps a subset of the candidates. Never invents endpoints; may return an empty list. */
export interface Filter extends Plugin {
  filter(request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[];
}

/** Scores each candidate in [0, 1] (higher is better); result[i] belongs to candidates[i]. */
export interface Scorer extends Plugin {
  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[];
}

/** A candidate with its weighted total score. */
export interface ScoredCandidate {
  readonly candidate: Candidate;
  readonly score: number;
}

/**
 * Chooses the target and an ordered fallback list (distinct endpoints, at most maxEndpoints in all).
 * `scored` and its entries are valid only during the call: the runner fills them again for the next
 * decision (keep candidates, not ScoredCandidates).
 */
export interface Picker extends Plugin {
  pick(scored: readonly ScoredCandidate[]): Candidate[];
}

/** Chooses which profile runs for a request. */
export interface ProfileHandler extends Plugin {
  selectProfile(request: SchedulingRequest, profiles: readonly SchedulerProfile[]): SchedulerProfile;
}

/**
 * A capability any plugin may have: told the endpoint actually chosen, before each attempt is
 * sent (prefix-cache-scorer's index learns from it). Found with isPreRequestHook.
 */
export interface PreRequestHook extends Plugin {
  preRequest(request: SchedulingRequest, chosen: Candidate): void;
}

export function isPreRequestHook(p: Plugin): p is PreRequestHook {
  return typeof (p as Partial<PreRequestHook>).preRequest === "function";
}

/**
 * A capability any plugin may have: the request's own preparation (upstream's PrepareData step),
 * run once per request before it is queued and scheduled, e.g. tokenizing the prompt and hashing
 * its blocks. It depends on the request alone, never on endpoints or on other decisions, so the
 * decision itself only matches what it prepared against the endpoints' state. What it keeps is
 * keyed by the request object (request ids are the client's and may repeat); a request that was
 * not prepared is prepared by the decision. Found with isRequestPreparer.
 */
export interface RequestPreparer extends Plugin {
  prepareRequest(request: SchedulingRequest): void;
}

export function isRequestPreparer(p: Plugin): p is RequestPreparer {
  return typeof (p as Partial<RequestPreparer>).prepareRequest === "function";
}

/** The outcome of one scheduling decision. */
export interface SchedulingResult {
  /** First entry is the target; the rest are fallbacks, in order. Empty = no endpoint (503/429). */
  readonly endpoints: Candidate[];
  /** Per-plugin scores of the scored candidates, for explainable decisions. */
  readonly explanation?: DecisionExplanation;
}

/** One scored candidate: each scorer's score in [0, 1] before weighting, and total = Σ weight × score. */
export interface CandidateExplanation {
  readonly endpoint: string;
  readonly total: number;
  readonly scores: Record<string, number>;
}

/** Why the scheduler chose the target: every scored candidate's scores (at most MAX_EXPLAINED_CANDIDATES). */
export interface DecisionExplanation {
  readonly profile: string;
  readonly chosen: CandidateExplanation;
  /** The best other candidate by total; absent when only one was scored. */
  readonly runnerUp?: CandidateExplanation;
  /** The remaining scored candidates, best total first; absent when there are none. */
  readonly others?: readonly CandidateExplanation[];
  /** Scored candidates left out of the explanation beyond MAX_EXPLAINED_CANDIDATES (absent when 0). */
  readonly omitted?: number;
  /** Candidates removed by the stale guard and the filters. */
  readonly filteredOut: number;
}

/** Candidates an explanation lists at most (chosen, runner-up and others), so it stays a header's size. */
export const MAX_EXPLAINED_CANDIDATES = 16;

/** The scheduler the director calls: one decision per request, over the pool's candidates. */
export interface Scheduler {
  schedule(request: SchedulingRequest, candidates: readonly Candidate[]): SchedulingResult;
}
