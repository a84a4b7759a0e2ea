/** What the director uses to pick endpoints for one pool: a Scheduler plus its hooks. */
import type { ResponseHook } from "../requestcontrol/response-hook.ts";
import type { PreRequestHook, Scheduler } from "./types.ts";

export interface PoolScheduling {
  readonly scheduler: Scheduler;
  /** Run with the chosen endpoint before the request is sent (e.g. prefix-index updates). */
  readonly preRequestHooks: readonly PreRequestHook[];
  /** Run when the response ends or fails (e.g. latency bookkeeping). */
  readonly responseHooks: readonly ResponseHook[];
  /** Extra response headers for the endpoint that served (e.g. a session-affinity token). */
  readonly responseHeaders?: (endpointId: string) => Record<string, string>;
}
