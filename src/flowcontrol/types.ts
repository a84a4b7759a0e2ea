/**
 * Flow-control contracts. The director asks an Admitter before scheduling; it resolves when the
 * request may go to the scheduler (now, or later when capacity frees) and rejects with a
 * GatewayError (429 shed / queue full, 503 queue timeout) otherwise.
 */
import type { AbortLike } from "../cancellation.ts";
import type { Plugin } from "../plugins/registry.ts";
import type { Candidate } from "../scheduling/types.ts";

/** One request waiting for admission. */
export interface FlowRequest {
  readonly id: string;
  /** Priority: higher first. Sheddable = negative. */
  readonly priority: number;
  /** Fairness flow: the x-gateway-inference-fairness-id header, else the model name. */
  readonly flowId: string;
  /** Request body size in bytes (for byte limits). */
  readonly bytes: number;
  /** Aborted when the client goes away: the request must leave the queue at once. */
  readonly signal: AbortLike;
  /** Called once if the request is queued rather than admitted at once. */
  readonly onQueued?: () => void;
  /**
   * Called synchronously at the moment of admission, before admit()'s promise settles: the caller
   * charges the request's load where the detector reads it (the exchange schedules and charges
   * in-flight here). With it, an admitter may admit several requests in one event-loop turn, each
   * seeing the ones before; without it, at most one per turn. Must not throw.
   */
  readonly onAdmitted?: () => void;
}

/** Decides whether a pool is saturated. 0 = idle, >= 1 = saturated. Pure; cheap. */
export interface SaturationDetector extends Plugin {
  saturation(candidates: readonly Candidate[], now: number): number;
}

/**
 * What the director awaits. `notify()` is called on every metrics refresh and request completion;
 * for a completion it passes the finished request's priority (so its band may reclaim the capacity).
 */
export interface Admitter {
  admit(request: FlowRequest): Promise<void>;
  notify(completedPriority?: number): void;
}
