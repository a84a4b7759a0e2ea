/**
 * A capability of prefix scorers, read by the expected-TTFT cost model: how much of a request's
 * prompt each candidate already holds in its prefix cache. Found with isPrefixMatchSource.
 */
import type { Plugin } from "../plugins/registry.ts";
import type { Candidate, SchedulingRequest } from "./types.ts";

/** The request's prompt length and, per candidate (same order), its leading tokens cached there. */
export interface PrefixMatch {
  /** Prompt tokens as the source counts them (estimated, or the tokenizer's). */
  readonly promptTokens: number;
  /** cachedTokens[i] ≤ promptTokens belongs to candidates[i]. */
  readonly cachedTokens: readonly number[];
  /** True when the counts are an estimate (characters ÷ 4), not a tokenizer's. */
  readonly estimated?: boolean;
}

export interface PrefixMatchSource extends Plugin {
  prefixMatch(request: SchedulingRequest, candidates: readonly Candidate[]): PrefixMatch;
}

export function isPrefixMatchSource(p: Plugin): p is PrefixMatchSource {
  return typeof (p as Partial<PrefixMatchSource>).prefixMatch === "function";
}
