/**
 * The access log (`--access-log`): one line per request, written from the `end` hook, through a
 * pino logger of the CLI's (so JSON lines, or text on a terminal, like every log stream). Every
 * field is always present, null when it does not apply (docs/observability.md lists them).
 */
import type { Logger } from "pino";
import type { ExchangeOutcome, ExchangeView } from "../requestcontrol/exchange-view.ts";
import type { LifecycleHooks } from "../requestcontrol/lifecycle-hooks.ts";

/** One access-log line's fields. Times in ms (0.1 ms precision). */
export interface AccessLogFields {
  /** `x-request-id`: the client's, or generated. */
  readonly id: string;
  /** The client's model; "" when no InferenceModel names it and no server serves it (as in metrics). */
  readonly model: string;
  /** The model the engine saw; null when refused before a model resolved. */
  readonly targetModel: string | null;
  /** The endpoint of the last attempt; null when none was tried. */
  readonly endpoint: string | null;
  /** The status sent to the client (499 when it went away first). */
  readonly status: number | null;
  /** Time in the flow-control queue (0 when it did not wait). */
  readonly queueMs: number;
  /** Arrival to the first content token of a streamed answer; null otherwise. */
  readonly ttftMs: number | null;
  /** From the engine's `usage`; null when it sent none. */
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
  readonly outcome: ExchangeOutcome | null;
  /** The error table's code (or `upstream_<status>`) when it failed; null when it succeeded. */
  readonly errorCode: string | null;
  readonly durationMs: number;
  readonly priority: number | null;
  readonly attempts: number;
}

/** Characters of the client's path kept in the message. */
const MAX_PATH = 200;

const ms = (x: number): number => Math.round(x * 10) / 10;

/** The fields of an ended exchange. */
export function accessLogFields(ex: ExchangeView): AccessLogFields {
  const ended = ex.endedAt ?? ex.receivedAt;
  return {
    id: ex.id,
    model: ex.knownModel ? (ex.clientModel ?? "") : "",
    targetModel: ex.targetModel ?? null,
    endpoint: ex.endpoint ?? null,
    status: ex.status ?? null,
    queueMs: ex.queuedAt === undefined ? 0 : ms((ex.admittedAt ?? ended) - ex.queuedAt),
    ttftMs: ex.stream && ex.firstTokenAt !== undefined ? ms(ex.firstTokenAt - ex.receivedAt) : null,
    tokensIn: ex.promptTokens ?? null,
    tokensOut: ex.completionTokens ?? null,
    outcome: ex.outcome ?? null,
    errorCode: ex.errorCode ?? null,
    durationMs: ms(ended - ex.receivedAt),
    priority: ex.priority ?? null,
    attempts: ex.attempts,
  };
}

/** Logs `METHOD path status` with the fields at info level for every exchange's `end`; returns the unsubscribe. */
export function subscribeAccessLog(hooks: LifecycleHooks, logger: Logger): () => void {
  return hooks.on("end", (ex) => {
    const path = ex.path.length > MAX_PATH ? `${ex.path.slice(0, MAX_PATH)}…` : ex.path;
    logger.info(accessLogFields(ex), `${ex.method} ${path} ${ex.status ?? "-"}`);
  });
}
