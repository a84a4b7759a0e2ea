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

/** Chooses the target and an ordered fallback list (distinct endpoints, at most maxEndpoints in all). */
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

/** The outcome of one scheduling decision. */
export interface SchedulingResult {
  /** First entry is the target; the rest are fallbacks, in order. Empty = no endpoint (503/429). */
  readonly endpoints: Candidate[];
  /** Per-plugin scores of the chosen endpoint and the runner-up, for explainable decisions. */
  readonly explanation?: DecisionExplanation;
}

export interface DecisionExplanation {
  readonly profile: string;
  readonly chosen: { endpoint: string; total: number; scores: Record<string, number> };
  readonly runnerUp?: { endpoint: string; total: number; scores: Record<string, number> };
  readonly filteredOut: number;
}

/** The scheduler the director calls: one decision per request, over the pool's candidates. */
export interface Scheduler {
  schedule(request: SchedulingRequest, candidates: readonly Candidate[]): SchedulingResult;
}
