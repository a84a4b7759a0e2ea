/**
 * Stage "forward / stream": sends a prepared request to its endpoint with undici's `dispatch` and
 * relays the answer to the client as it arrives (backpressure: the upstream is paused while the
 * client socket is full). Connection failures and 5xx answers that come before any byte was sent
 * to the client are retried on the next endpoint (at most `maxAttempts` endpoints in all). A client
 * that goes away aborts the upstream request at once; the request timeout aborts it too (504 when
 * nothing was sent yet). `signal` fires when the client goes away.
 */
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import { ErrorKinds, GatewayError } from "../errors.ts";
import type { Director, PreparedRequest } from "../requestcontrol/director.ts";
import type { Candidate } from "../scheduling/types.ts";
import { ResponseRelay } from "./response-relay.ts";
import { sendError } from "./send-error.ts";
import type { UpstreamPools } from "./upstream-pools.ts";

/** Header telling the client (and tests) which endpoint served the request. */
export const SERVED_ENDPOINT_HEADER = "x-gateway-destination-endpoint-served";
/** The scheduler's DecisionExplanation as JSON, when the gateway runs with explanations on. */
export const DECISION_HEADER = "x-gateway-scheduling-decision";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
  "expect",
]);

/** Errors that mean "this endpoint could not be reached or dropped the connection": retried, backed off. */
const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
]);

export interface ForwardOptions {
  /** Endpoints tried per request, first included (≥ 1). */
  readonly maxAttempts: number;
  /** Where endpoint reachability changes are logged. */
  readonly logger?: Logger;
  /** Send the scheduler's explanation in DECISION_HEADER (when the request has one). */
  readonly explainHeader?: boolean;
}

type AttemptResult =
  | { kind: "done"; status: number; completed: boolean }
  | { kind: "retry"; reason: string; responded: boolean }
  | { kind: "failed"; reason: string }
  | { kind: "aborted"; reason: "client" | "timeout" };

/** Everything one request's attempts share. */
interface Exchange {
  readonly p: PreparedRequest;
  readonly res: ServerResponse;
  readonly relay: ResponseRelay;
  committed: boolean;
  clientGone: boolean;
  timedOut: boolean;
  responseBytes: number;
  firstByteMs: number | undefined;
  abortCurrent: ((reason: Error) => void) | undefined;
  /** DECISION_HEADER value, when explanations are sent. */
  readonly decision: string | undefined;
}

/** Forwards with retries, writes the response (or an error) and tells the director it is over. */
export async function forward(
  director: Director,
  pools: UpstreamPools,
  p: PreparedRequest,
  res: ServerResponse,
  signal: AbortSignal,
  options: ForwardOptions,
): Promise<void> {
  const ex: Exchange = {
    p,
    res,
    relay: new ResponseRelay(p.resolution.targetModel, p.resolution.clientModel),
    committed: false,
    clientGone: signal.aborted,
    timedOut: false,
    responseBytes: 0,
    firstByteMs: undefined,
    abortCurrent: undefined,
    decision: options.explainHeader && p.explanation ? JSON.stringify(p.explanation) : undefined,
  };
  const onAbort = (): void => {
    ex.clientGone = true;
    ex.abortCurrent?.(new Error("client disconnected"));
  };
  signal.addEventListener("abort", onAbort);
  const timer =
    p.timeoutMs !== undefined
      ? setTimeout(() => {
          ex.timedOut = true;
          ex.abortCurrent?.(new Error("request timeout"));
        }, p.timeoutMs)
      : undefined;

  const headers = upstreamHeaders(p, ex.relay.rewrites);
  const tried = new Set<string>();
  let candidate: Candidate | undefined = p.endpoints[0];
  let lastReason = "";
  let result: AttemptResult | undefined;
  let served: Candidate | undefined;
  try {
    while (candidate && tried.size < options.maxAttempts) {
      tried.add(candidate.endpoint.id);
      const last = tried.size >= options.maxAttempts;
      director.startAttempt(p, candidate);
      try {
        result = await attempt(ex, pools, candidate, headers, last);
      } finally {
        director.endAttempt(p, candidate);
      }
      served = candidate;
      if (result.kind === "done" || (result.kind === "retry" && result.responded)) {
        if (director.responded(candidate))
          options.logger?.info(
            { endpoint: candidate.endpoint.id },
            `endpoint ${candidate.endpoint.id} answers again`,
          );
      } else if (result.kind === "retry") {
        const backoff = director.connectionFailed(candidate);
        if (backoff?.started)
          options.logger?.warn(
            { endpoint: candidate.endpoint.id, reason: result.reason, backoffMs: backoff.backoffMs },
            `endpoint ${candidate.endpoint.id} could not be reached (${result.reason}); ` +
              `not scheduling it for ${backoff.backoffMs} ms`,
          );
      }
      if (result.kind === "retry" || result.kind === "failed")
        lastReason = `${candidate.endpoint.id}: ${result.reason}`;
      if (result.kind !== "retry") break;
      candidate = last ? undefined : director.nextEndpoint(p, tried);
    }
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }

  let status: number;
  let errorCode: string | undefined;
  let completed = false;
  if (result?.kind === "done") {
    status = result.status;
    completed = result.completed;
    if (status >= 400) errorCode = `upstream_${status}`;
  } else if (result?.kind === "aborted" && result.reason === "client") {
    status = 499;
    errorCode = "client_disconnected";
  } else {
    const err =
      result?.kind === "aborted"
        ? new GatewayError("upstreamTimeout", `the model server did not answer within ${p.timeoutMs} ms`)
        : result?.kind === "failed"
          ? new GatewayError(
              "upstreamFailure",
              `the request could not be sent to the model server (${lastReason})`,
            )
          : new GatewayError(
              "upstreamFailure",
              `the model server failed after ${tried.size} attempt${tried.size === 1 ? "" : "s"} (${lastReason || "no endpoint"})`,
            );
    status = err.status;
    errorCode = ErrorKinds[err.kind].code;
    if (!ex.committed) sendError(res, err, p.parsed.id);
    else res.destroy();
  }
  director.finish(p, served, {
    status,
    completed,
    durationMs: performance.now() - p.receivedAt,
    ...(ex.firstByteMs !== undefined ? { firstByteMs: ex.firstByteMs } : {}),
    ...(ex.relay.promptTokens !== undefined ? { promptTokens: ex.relay.promptTokens } : {}),
    ...(ex.relay.completionTokens !== undefined ? { completionTokens: ex.relay.completionTokens } : {}),
    responseBytes: ex.responseBytes,
    ...(errorCode !== undefined ? { errorCode } : {}),
  });
}

function upstreamHeaders(p: PreparedRequest, rewrites: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in p.parsed.headers) {
    if (HOP_BY_HOP.has(name) || (rewrites && name === "accept-encoding")) continue;
    out[name] = p.parsed.headers[name]!;
  }
  out["content-length"] = String(p.body.length);
  return out;
}

function attempt(
  ex: Exchange,
  pools: UpstreamPools,
  candidate: Candidate,
  headers: Record<string, string>,
  last: boolean,
): Promise<AttemptResult> {
  const { res, relay, p } = ex;
  return new Promise<AttemptResult>((resolve) => {
    if (ex.clientGone || ex.timedOut) {
      resolve({ kind: "aborted", reason: ex.clientGone ? "client" : "timeout" });
      return;
    }
    let discard = false;
    let settled = false;
    let status = 0;
    const settle = (r: AttemptResult): void => {
      if (settled) return;
      settled = true;
      ex.abortCurrent = undefined;
      resolve(r);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        ex.abortCurrent = (reason) => controller.abort(reason);
      },
      onResponseStart(_controller, statusCode, upstream) {
        status = statusCode;
        if (statusCode >= 500 && !last) {
          discard = true;
          return;
        }
        ex.committed = true;
        const headers = responseHeaders(upstream, relay.rewrites, p.parsed.id, candidate.endpoint.id);
        if (ex.decision !== undefined) headers[DECISION_HEADER] = ex.decision;
        Object.assign(headers, p.runtime.scheduling.responseHeaders?.(candidate.endpoint.id));
        res.writeHead(statusCode, headers);
        ex.firstByteMs = performance.now() - p.receivedAt;
        if (String(upstream["content-type"] ?? "").startsWith("text/event-stream")) res.flushHeaders();
      },
      onResponseData(controller, chunk) {
        if (discard) return;
        const out = relay.push(chunk);
        if (out.length === 0) return;
        ex.responseBytes += out.length;
        if (!res.write(out) && !controller.paused) {
          controller.pause();
          res.once("drain", () => controller.resume());
        }
      },
      onResponseEnd() {
        if (discard) {
          settle({ kind: "retry", reason: `HTTP ${status}`, responded: true });
          return;
        }
        const rest = relay.end();
        ex.responseBytes += rest.length;
        res.end(rest.length > 0 ? rest : undefined);
        settle({ kind: "done", status, completed: true });
      },
      onResponseError(_controller, err) {
        if (ex.clientGone || ex.timedOut) {
          if (ex.committed && !res.destroyed) res.destroy();
          settle({ kind: "aborted", reason: ex.clientGone ? "client" : "timeout" });
          return;
        }
        if (!ex.committed && !CONNECTION_ERRORS.has((err as { code?: string }).code ?? "")) {
          settle({ kind: "failed", reason: describe(err) });
          return;
        }
        if (!ex.committed) {
          settle({ kind: "retry", reason: describe(err), responded: status !== 0 });
          return;
        }
        res.destroy(err);
        settle({ kind: "done", status, completed: false });
      },
    };
    pools
      .get(candidate.endpoint)
      .dispatch({ path: p.parsed.path + queryOf(p), method: "POST", headers, body: p.body }, handler);
  });
}

function queryOf(p: PreparedRequest): string {
  const q = p.parsed.query.toString();
  return q === "" ? "" : `?${q}`;
}

function responseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  rewrites: boolean,
  requestId: string,
  endpointId: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined) continue;
    if (HOP_BY_HOP.has(name) && !(name === "content-length" && !rewrites)) continue;
    out[name] = v;
  }
  out["x-request-id"] = requestId;
  out[SERVED_ENDPOINT_HEADER] = endpointId;
  return out;
}

function describe(err: Error): string {
  const code = (err as { code?: string }).code;
  return code ? `${code} ${err.message}` : err.message;
}
