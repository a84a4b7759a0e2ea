/**
 * Stage "forward / stream" of the HTTP adapter: one ProxiedRequest per request sends the decided
 * exchange to its endpoints over keep-alive connections (http1/upstream-client.ts) and relays the
 * answer as it arrives (backpressure: the engine's socket is paused while the client's is full).
 * The exchange decides everything else — which status is retried, where to go next, what the
 * client's head and bytes are — so this file only moves bytes. A client that goes away aborts the
 * upstream request at once, whatever phase it is in; the request timeout aborts it too (504 when
 * nothing was sent yet).
 *
 * One object is the upstream handler of every attempt, the client-close listener and the
 * cancellation signal flow control waits on: no closure or promise per attempt on the hot path.
 */
import type { AbortLike } from "../cancellation.ts";
import { GatewayError } from "../errors.ts";
import { headerRecord } from "../header-record.ts";
import type { AttemptFailure, Decision, ResponseHead } from "../requestcontrol/decision.ts";
import type { Exchange } from "../requestcontrol/exchange.ts";
import type { HeaderFields } from "./http1/header-lines.ts";
import type { Http1Reply } from "./http1/server.ts";
import { type UpstreamController, UpstreamError, type UpstreamHandler } from "./http1/upstream-client.ts";
import { type Deadline, RequestDeadlines } from "./request-deadlines.ts";
import { writeErrorResponse } from "./send-error.ts";
import type { UpstreamPools } from "./upstream-pools.ts";

/** Every request's timeout, on shared timers (one per route duration, not one per request). */
const DEADLINES = new RequestDeadlines();

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

export class ProxiedRequest implements UpstreamHandler, AbortLike {
  /** True once the client went away (flow control reads it while the request is queued). */
  aborted = false;
  #abortListeners: (() => void)[] | undefined;
  readonly #ex: Exchange;
  readonly #res: Http1Reply;
  readonly #inboundHeaders: HeaderFields;
  readonly #pools: UpstreamPools;
  #decision: Decision | undefined;
  #headers: Record<string, string> | undefined;
  #controller: UpstreamController | undefined;
  #deadline: Deadline | undefined;
  #timedOut = false;
  #committed = false;
  /** The current attempt's response is being dropped (a status the exchange retries). */
  #discard = false;
  #status = 0;
  #finished = false;
  #resume: (() => void) | undefined;

  /** Starts watching the client at once, so a client that leaves while queued is noticed. */
  constructor(ex: Exchange, res: Http1Reply, inboundHeaders: HeaderFields, pools: UpstreamPools) {
    this.#ex = ex;
    this.#res = res;
    this.#inboundHeaders = inboundHeaders;
    this.#pools = pools;
    res.onClose(this.#clientClosed);
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.#abortListeners) this.#abortListeners.push(listener);
    else this.#abortListeners = [listener];
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const list = this.#abortListeners;
    const i = list ? list.indexOf(listener) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  readonly #clientClosed = (): void => {
    if (this.aborted) return;
    this.aborted = true;
    this.#ex.clientGone();
    const list = this.#abortListeners;
    this.#abortListeners = undefined;
    if (list) for (const fn of list) fn();
    this.#controller?.abort(new Error("client disconnected"));
  };

  readonly #timeout = (): void => {
    this.#timedOut = true;
    this.#controller?.abort(new Error("request timeout"));
  };

  get #stopped(): boolean {
    return this.aborted || this.#timedOut;
  }

  /** Sends the decided request; ends the exchange when the response (or its failure) is over. */
  start(decision: Decision): void {
    this.#decision = decision;
    if (decision.timeoutMs !== undefined) this.#deadline = DEADLINES.start(decision.timeoutMs, this.#timeout);
    this.#headers = upstreamHeaders(this.#inboundHeaders, decision);
    this.#try(decision.endpoints[0]);
  }

  #try(endpoint: string | undefined): void {
    if (endpoint === undefined || this.#stopped) {
      this.#finish();
      return;
    }
    this.#ex.attempt(endpoint);
    this.#discard = false;
    this.#status = 0;
    const d = this.#decision!;
    this.#pools
      .get(endpoint)
      .dispatch({ path: d.url, method: "POST", headers: this.#headers!, body: d.body }, this);
  }

  onRequestStart(controller: UpstreamController): void {
    // The client may have gone (or the timeout fired) before the request got this far.
    if (this.#stopped) controller.abort(new Error(this.aborted ? "client disconnected" : "timeout"));
    else this.#controller = controller;
  }

  onResponseStart(_controller: UpstreamController, status: number, headers: HeaderFields): void {
    this.#status = status;
    const action = this.#ex.responseStarted(status, headers);
    if (action.kind === "retry") {
      this.#discard = true;
      return;
    }
    this.#committed = true;
    this.#res.writeHead(action.head.status, responseHeaders(headers, action.head));
    if ((headers["content-type"] ?? "").startsWith("text/event-stream")) this.#res.flushHeaders();
  }

  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    if (this.#discard) return;
    const out = this.#ex.responseChunk(chunk);
    if (out.length === 0) return;
    const res = this.#res;
    if (!res.write(out) && !controller.paused && !res.destroyed) {
      controller.pause();
      this.#resume ??= () => this.#controller?.resume();
      res.onceDrain(this.#resume);
    }
  }

  onResponseEnd(_controller: UpstreamController): void {
    this.#controller = undefined;
    if (this.#discard) {
      this.#retry({ kind: "status", status: this.#status });
      return;
    }
    const rest = this.#ex.responseEnd();
    this.#res.end(rest.length > 0 ? rest : undefined);
    this.#finish();
  }

  onResponseError(_controller: UpstreamController, err: Error): void {
    this.#controller = undefined;
    if (this.#stopped) {
      if (this.aborted && this.#committed && !this.#res.destroyed) this.#res.destroy();
      this.#finish();
      return;
    }
    if (this.#committed) {
      this.#breakOff(err.message);
      this.#finish();
    } else if (err instanceof UpstreamError && (err.code === "connect" || err.code === "reset"))
      this.#retry({ kind: "connect", reason: err.message });
    else this.#retry({ kind: "error", reason: err.message });
  }

  #retry(failure: AttemptFailure): void {
    const next = this.#ex.attemptFailed(failure);
    if (next === undefined && !this.#stopped) writeErrorResponse(this.#res, this.#ex.fail());
    this.#try(next);
  }

  /** The request is over: answer a timeout, stop the timer, end the exchange (once). */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#deadline?.cancel();
    if (this.#timedOut && !this.aborted) {
      const ms = this.#decision?.timeoutMs;
      if (!this.#committed)
        writeErrorResponse(
          this.#res,
          this.#ex.fail(
            new GatewayError("upstreamTimeout", `the model server did not answer within ${ms} ms`),
          ),
        );
      else this.#breakOff(`no complete answer within ${ms} ms`);
    }
    this.#ex.end();
  }

  /**
   * A committed response broke: send the exchange's closing bytes (an SSE error event, which SDKs
   * raise as an error), then close so that no client mistakes it for a complete answer.
   */
  #breakOff(reason: string): void {
    const tail = this.#ex.breakResponse(reason);
    const res = this.#res;
    if (res.destroyed) return;
    if (tail.length > 0) {
      res.write(tail);
      res.truncate();
    } else res.destroy();
  }
}

function upstreamHeaders(inbound: HeaderFields, d: Decision): Record<string, string> {
  const out: Record<string, string> = headerRecord();
  for (const name in inbound) {
    if (HOP_BY_HOP.has(name) || (d.bodyRewritten && name === "accept-encoding")) continue;
    out[name] = inbound[name]!;
  }
  for (const name of d.removeHeaders) delete out[name];
  Object.assign(out, d.setHeaders);
  return out;
}

function responseHeaders(upstream: HeaderFields, head: ResponseHead): Record<string, string> {
  const out: Record<string, string> = headerRecord();
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) && name !== "content-length") continue;
    out[name] = upstream[name]!;
  }
  for (const name of head.removeHeaders) delete out[name];
  Object.assign(out, head.setHeaders);
  return out;
}
