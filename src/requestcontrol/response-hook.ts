/** Response hooks: run by the director when a forwarded request ends, successfully or not. */
import type { Candidate, SchedulingRequest } from "../scheduling/types.ts";

/** How a forwarded request ended. */
export interface ResponseOutcome {
  /** HTTP status sent to the client (the upstream's, or the gateway's error status). */
  readonly status: number;
  /** True when the full response reached the client. */
  readonly completed: boolean;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Time from request arrival to the first response byte from the engine (ms), when any arrived. */
  readonly firstByteMs?: number;
  /** Time from request arrival to the end (ms). */
  readonly durationMs: number;
}

export interface ResponseHook {
  readonly type: string;
  readonly name: string;
  /** `endpoint` is undefined when no endpoint was reached. Must not throw. */
  onResponseComplete(
    request: SchedulingRequest,
    endpoint: Candidate | undefined,
    outcome: ResponseOutcome,
  ): void;
}
