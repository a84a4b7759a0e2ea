/**
 * The Scheduler the director calls: avoids stale endpoints, lets the profile handler choose a
 * profile, runs it, and forwards prepare (once per request, before its decision) and preRequest
 * (the endpoint chosen) to the plugins that take them.
 */

import { type PluginObserver, runProfile, type SchedulerProfile } from "./profile-runner.ts";
import type {
  Candidate,
  PreRequestHook,
  ProfileHandler,
  RequestPreparer,
  Scheduler,
  SchedulingRequest,
  SchedulingResult,
} from "./types.ts";

export interface ProfileSchedulerOptions {
  /** At least one profile. */
  readonly profiles: readonly SchedulerProfile[];
  /** Chooses the profile; default: the first (single-profile handler). */
  readonly handler?: ProfileHandler;
  /** Plugins that prepare each request before its decision (e.g. the prefix scorers' hashes). */
  readonly preparers?: readonly RequestPreparer[];
  /** Plugins told where each request went (e.g. prefix-cache-scorer). */
  readonly preRequestHooks?: readonly PreRequestHook[];
  /** Attach a DecisionExplanation to every result; a function is asked once per decision (a runtime switch). */
  readonly explain?: boolean | (() => boolean);
  readonly observe?: PluginObserver;
  /**
   * Drop stale candidates (Candidate.stale, set by the datastore) while at least one fresh candidate exists (default true).
   * When every candidate is stale (e.g. at start-up) all are kept.
   */
  readonly avoidStale?: boolean;
}

/** A Scheduler over configured profiles. */
export class ProfileScheduler implements Scheduler {
  readonly profiles: readonly SchedulerProfile[];
  readonly preparers: readonly RequestPreparer[];
  readonly preRequestHooks: readonly PreRequestHook[];
  readonly #handler: ProfileHandler | undefined;
  readonly #explain: () => boolean;
  readonly #observe: PluginObserver | undefined;
  readonly #avoidStale: boolean;

  constructor(options: ProfileSchedulerOptions) {
    if (options.profiles.length === 0) throw new Error("a scheduler needs at least one profile");
    this.profiles = options.profiles;
    this.preparers = options.preparers ?? [];
    this.preRequestHooks = options.preRequestHooks ?? [];
    this.#handler = options.handler;
    const explain = options.explain ?? false;
    this.#explain = typeof explain === "function" ? explain : () => explain;
    this.#observe = options.observe;
    this.#avoidStale = options.avoidStale ?? true;
  }

  schedule(request: SchedulingRequest, candidates: readonly Candidate[]): SchedulingResult {
    let usable = candidates;
    if (this.#avoidStale && candidates.some((c) => c.stale) && candidates.some((c) => !c.stale)) {
      usable = candidates.filter((c) => !c.stale);
    }
    const profile = this.#handler?.selectProfile(request, this.profiles) ?? this.profiles[0]!;
    const run = runProfile(profile, request, usable, {
      explain: this.#explain(),
      ...(this.#observe ? { observe: this.#observe } : {}),
      removedBefore: candidates.length - usable.length,
    });
    return run.explanation
      ? { endpoints: run.endpoints, explanation: run.explanation }
      : { endpoints: run.endpoints };
  }

  /** The request's preparation, once per request before schedule() (the director's PoolScheduling.preparers). */
  prepare(request: SchedulingRequest): void {
    for (const p of this.preparers) p.prepareRequest(request);
  }

  preRequest(request: SchedulingRequest, chosen: Candidate): void {
    for (const h of this.preRequestHooks) h.preRequest(request, chosen);
  }
}
