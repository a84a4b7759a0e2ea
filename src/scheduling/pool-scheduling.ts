/** What the director uses to pick endpoints for one pool: a Scheduler plus what its plugins add. */
import type { PreRequestHook, RequestPreparer, Scheduler } from "./types.ts";

export interface PoolScheduling {
  readonly scheduler: Scheduler;
  /** Run once per request before it is admitted and scheduled (tokens, block hashes). */
  readonly preparers: readonly RequestPreparer[];
  /** Run with the chosen endpoint before each attempt is sent (e.g. prefix-index updates). */
  readonly preRequestHooks: readonly PreRequestHook[];
  /** Extra response headers for the endpoint that served (e.g. a session-affinity token). */
  readonly responseHeaders?: (endpointId: string) => Record<string, string>;
  /** Releases what the plugins hold (KV-event subscriptions); called when replaced or at shutdown. */
  close(): void;
}
