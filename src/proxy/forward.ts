/**
 * Stage "forward / stream" of the HTTP adapter: sends a decided exchange to its endpoints over
 * keep-alive connections (http1/upstream-client.ts) and relays the answer as it arrives
 * (backpressure: the engine's socket is paused while the client's is full). The exchange decides everything else — which status is
 * retried, where to go next, what the client's head and bytes are — so this file only moves bytes.
 * A client that goes away aborts the upstream request at once, whatever phase it is in; the request
 * timeout aborts it too (504 when nothing was sent yet).
 */
import { GatewayError } from "../errors.ts";
import type { AttemptFailure, Decision, ResponseHead } from "../requestcontrol/decision.ts";
import type { Exchange } from "../requestcontrol/exchange.ts";
import type { HeaderFields } from "./http1/header-lines.ts";
import type { Http1Reply } from "./http1/server.ts";
import { UpstreamError, type UpstreamHandler } from "./http1/upstream-client.ts";
import { writeErrorResponse } from "./send-error.ts";
import type { UpstreamPools } from "./upstream-pools.ts";

/** Hop-by-hop and framing headers: never copied between the two connections. */
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

/** How one attempt ended, as far as the adapter can tell. */
type AttemptResult =
  | { readonly kind: "done" }
  | { readonly kind: "retry"; readonly failure: AttemptFailure }
  | { readonly kind: "broken"; readonly reason: string }
  | { readonly kind: "aborted" };

/** What the attempts of one request share: the client side, and why it may stop early. */
class ClientSide {
  readonly res: Http1Reply;
  clientGone = false;
  timedOut = false;
  committed = false;
  /** Aborts the attempt in flight (set while one runs). */
  abortCurrent: ((reason: Error) => void) | undefined = undefined;

  constructor(res: Http1Reply) {
    this.res = res;
  }

  get stopped(): boolean {
    return this.clientGone || this.timedOut;
  }

  stop(reason: string): void {
    this.abortCurrent?.(new Error(reason));
  }
}

/**
 * Forwards with retries, writes the response (or an error) and returns when it is over. `signal`
 * fires when the client goes away. The caller ends the exchange afterwards.
 */
export async function forward(
  ex: Exchange,
  decision: Decision,
  inboundHeaders: HeaderFields,
  res: Http1Reply,
  signal: AbortSignal,
  pools: UpstreamPools,
): Promise<void> {
  const side = new ClientSide(res);
  const onAbort = (): void => {
    side.clientGone = true;
    ex.clientGone();
    side.stop("client disconnected");
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  const timer =
    decision.timeoutMs !== undefined
      ? setTimeout(() => {
          side.timedOut = true;
          side.stop("request timeout");
        }, decision.timeoutMs)
      : undefined;
  const headers = upstreamHeaders(inboundHeaders, decision);
  try {
    let endpoint: string | undefined = decision.endpoints[0];
    while (endpoint !== undefined && !side.stopped) {
      ex.attempt(endpoint);
      const result = await attempt(ex, side, pools, endpoint, decision, headers);
      if (result.kind === "retry") {
        endpoint = ex.attemptFailed(result.failure);
        if (endpoint === undefined && !side.stopped) writeErrorResponse(res, ex.fail());
        continue;
      }
      if (result.kind === "broken") breakOff(ex, side, result.reason);
      break;
    }
    if (side.timedOut && !side.clientGone) {
      if (!side.committed)
        writeErrorResponse(
          res,
          ex.fail(
            new GatewayError(
              "upstreamTimeout",
              `the model server did not answer within ${decision.timeoutMs} ms`,
            ),
          ),
        );
      else breakOff(ex, side, `no complete answer within ${decision.timeoutMs} ms`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A committed response broke: send the exchange's closing bytes (an SSE error event, which SDKs
 * raise as an error), then reset the connection so that no client mistakes it for a complete answer.
 */
function breakOff(ex: Exchange, side: ClientSide, reason: string): void {
  const tail = ex.breakResponse(reason);
  const { res } = side;
  if (res.destroyed) return;
  if (tail.length > 0) {
    res.write(tail);
    res.truncate();
  } else res.destroy();
}

function upstreamHeaders(inbound: HeaderFields, d: Decision): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name in inbound) {
    if (HOP_BY_HOP.has(name) || (d.bodyRewritten && name === "accept-encoding")) continue;
    out[name] = inbound[name]!;
  }
  for (const name of d.removeHeaders) delete out[name];
  Object.assign(out, d.setHeaders);
  return out;
}

function attempt(
  ex: Exchange,
  side: ClientSide,
  pools: UpstreamPools,
  endpoint: string,
  d: Decision,
  headers: Record<string, string>,
): Promise<AttemptResult> {
  const { res } = side;
  return new Promise<AttemptResult>((resolve) => {
    let discard = false;
    let settled = false;
    let status = 0;
    const settle = (r: AttemptResult): void => {
      if (settled) return;
      settled = true;
      side.abortCurrent = undefined;
      resolve(r);
    };
    const handler: UpstreamHandler = {
      onRequestStart(controller) {
        // The client may have gone (or the timeout fired) before the request got this far.
        if (side.stopped) controller.abort(new Error(side.clientGone ? "client disconnected" : "timeout"));
        else side.abortCurrent = (reason) => controller.abort(reason);
      },
      onResponseStart(_controller, statusCode, upstream) {
        status = statusCode;
        const action = ex.responseStarted(statusCode, upstream);
        if (action.kind === "retry") {
          discard = true;
          return;
        }
        side.committed = true;
        res.writeHead(action.head.status, responseHeaders(upstream, action.head));
        if ((upstream["content-type"] ?? "").startsWith("text/event-stream")) res.flushHeaders();
      },
      onResponseData(controller, chunk) {
        if (discard) return;
        const out = ex.responseChunk(chunk);
        if (out.length === 0) return;
        if (!res.write(out) && !controller.paused && !res.destroyed) {
          controller.pause();
          res.onceDrain(() => controller.resume());
        }
      },
      onResponseEnd() {
        if (discard) {
          settle({ kind: "retry", failure: { kind: "status", status } });
          return;
        }
        const rest = ex.responseEnd();
        res.end(rest.length > 0 ? rest : undefined);
        settle({ kind: "done" });
      },
      onResponseError(_controller, err) {
        if (side.stopped) {
          if (side.clientGone && side.committed && !res.destroyed) res.destroy();
          settle({ kind: "aborted" });
          return;
        }
        if (side.committed) settle({ kind: "broken", reason: err.message });
        else if (err instanceof UpstreamError && (err.code === "connect" || err.code === "reset"))
          settle({ kind: "retry", failure: { kind: "connect", reason: err.message } });
        else settle({ kind: "retry", failure: { kind: "error", reason: err.message } });
      },
    };
    pools.get(endpoint).dispatch({ path: d.url, method: "POST", headers, body: d.body }, handler);
  });
}

function responseHeaders(upstream: HeaderFields, head: ResponseHead): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) && name !== "content-length") continue;
    out[name] = upstream[name]!;
  }
  for (const name of head.removeHeaders) delete out[name];
  Object.assign(out, head.setHeaders);
  return out;
}
