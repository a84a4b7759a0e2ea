/**
 * What hook subscribers, logs and the dashboard may read of one exchange. Plain data only (no
 * live objects), filled in as the stages run: a field is undefined until its stage has run.
 * Times are `performance.now()` milliseconds.
 */
import type { DecisionExplanation } from "../scheduling/types.ts";

/** How an exchange ended. */
export type ExchangeOutcome =
  /** The whole response reached the client (any status the engine chose). */
  | "completed"
  /** The gateway refused or failed it before any byte of a response (error status sent). */
  | "refused"
  /** The client went away (while queued, waiting, or mid-response). */
  | "client_gone"
  /** The response started, then broke (engine died mid-stream, timeout mid-stream). */
  | "broken";

/** Which metric family a request belongs to (InferenceModel or InferenceObjective). */
export type RequestFamily = "model" | "objective";

export interface ExchangeView {
  /** The request id (`x-request-id`, the client's or generated). */
  readonly id: string;
  readonly method: string;
  readonly path: string;
  /** Arrival time. */
  readonly receivedAt: number;
  /** Request body size in bytes. */
  readonly requestBytes: number;
  /** The `model` the client sent (after parsing). */
  readonly clientModel: string | undefined;
  /** What the engine sees (after InferenceModel / rewrite). */
  readonly targetModel: string | undefined;
  readonly poolKey: string | undefined;
  readonly priority: number | undefined;
  readonly family: RequestFamily;
  /** True once the model resolved to a configured InferenceModel or a name the pool serves (safe as a metric label). */
  readonly knownModel: boolean;
  readonly stream: boolean;
  /** When admission let it through (equal to the routed time when it did not wait). */
  readonly admittedAt: number | undefined;
  /** When it entered the queue, if it waited. */
  readonly queuedAt: number | undefined;
  /** Endpoints the scheduler chose, target first. */
  readonly endpoints: readonly string[];
  /** The endpoint of the current (or last) attempt. */
  readonly endpoint: string | undefined;
  readonly attempts: number;
  readonly explanation: DecisionExplanation | undefined;
  /** Status sent to the client (the engine's, or the gateway's error status). */
  readonly status: number | undefined;
  /** When the response started towards the client. */
  readonly respondedAt: number | undefined;
  /** When the first content token passed (TTFT = firstTokenAt - receivedAt). */
  readonly firstTokenAt: number | undefined;
  readonly endedAt: number | undefined;
  readonly responseBytes: number;
  /** From the engine's `usage`, when it sent one. */
  readonly promptTokens: number | undefined;
  readonly completionTokens: number | undefined;
  /** Error-table code (`queue_timeout`, …) or `upstream_<status>`; undefined when it succeeded. */
  readonly errorCode: string | undefined;
  /** Human-readable reason of the failure, when it failed. */
  readonly errorMessage: string | undefined;
  readonly outcome: ExchangeOutcome | undefined;
}
