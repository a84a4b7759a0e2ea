/**
 * One ext_proc stream (one HTTP request through Envoy) as a state machine, free of gRPC: Envoy's
 * ProcessingRequests go in through `handle`, ProcessingResponses come out through `send`.
 *
 *   request headers ─► body chunks (held) ─► end of stream ─► exchange.decide (may queue)
 *     ─► headers response (destination header, content-length, clear_route_cache, envoy.lb metadata)
 *     ─► body re-emitted (≤ bodyChunkBytes per StreamedBodyResponse) ─► response headers / body
 *     through the exchange's response processing ─► exchange.end
 *
 * Body modes (from Envoy's `protocol_config`): FULL_DUPLEX_STREAMED (the headers answer is held
 * until the body is complete), BUFFERED / BUFFERED_PARTIAL (headers answered at once, the decision
 * rides on the body answer), STREAMED (only with `send_body_without_waiting_for_header_response`,
 * else Envoy would route before the body is seen). Refusals become an ImmediateResponse carrying
 * the gateway's status and OpenAI JSON. `reset` (Envoy reset the stream) leaves the queue.
 */
import type { Logger } from "pino";
import { Cancellation } from "../cancellation.ts";
import { GatewayError } from "../errors.ts";
import { asGatewayError, errorResponse } from "../requestcontrol/error-response.ts";
import type { BeginExchange, Decision, ErrorResponse, ExchangePort } from "./exchange-port.ts";
import type { ExtProcOptions } from "./extproc-options.ts";
import { headerMutation, readHeaderMap } from "./header-map.ts";
import { dynamicMetadata, subsetHint, upstreamAddress } from "./metadata.ts";
import {
  type BodyMutation,
  BodySendMode,
  type HttpBody,
  type HttpHeaders,
  type ProcessingRequest,
  type ProcessingResponse,
} from "./protocol.ts";

const EMPTY = Buffer.alloc(0);

export interface ExtProcStreamDeps {
  readonly begin: BeginExchange;
  /** Writes one ProcessingResponse to Envoy. */
  readonly send: (response: ProcessingResponse) => void;
  /** Ends the stream from our side (after an ImmediateResponse, or once Envoy has half-closed). */
  readonly close: () => void;
  readonly options: ExtProcOptions;
  readonly logger?: Logger;
}

type Phase =
  | "requestHeaders" // waiting for the request headers
  | "requestBody" // collecting body chunks
  | "deciding" // exchange.decide pending (the request may be queued)
  | "routed" // decision sent; waiting for the response headers
  | "responseBody" // response headers passed; body chunks flowing
  | "done";

export class ExtProcStream {
  readonly #deps: ExtProcStreamDeps;
  #phase: Phase = "requestHeaders";
  #requestMode: number;
  #responseMode: number;
  #bodyBeforeHeaderAnswer = false;
  #configured = false;
  #pseudo: Record<string, string> = {};
  #headers: Record<string, string> = {};
  /** Client headers that steer the gateway: removed upstream. */
  #control: string[] = [];
  #subset: string[] | undefined;
  #chunks: Buffer[] = [];
  #bodyBytes = 0;
  #bodyMessages = 0;
  #headersAnswered = false;
  #requestTrailers = false;
  #exchange: ExchangePort | undefined;
  readonly #abort = new Cancellation();
  #attempted: string | undefined;
  /** The exchange asked for a retry Envoy cannot make: the response passes through untouched. */
  #passThrough = false;
  /** The exchange was ended. */
  #ended = false;
  /** Envoy reset the stream, or we closed it. */
  #closed = false;

  constructor(deps: ExtProcStreamDeps) {
    this.#deps = deps;
    this.#requestMode = deps.options.defaultRequestBodyMode;
    this.#responseMode = deps.options.defaultResponseBodyMode;
  }

  /** The phase, for tests and logs. */
  get phase(): Phase {
    return this.#phase;
  }

  /** One message from Envoy. Protocol errors answer 500 and close; they never throw. */
  handle(msg: ProcessingRequest): void {
    if (this.#closed) return;
    try {
      if (!this.#configured) this.#configure(msg);
      switch (msg.request) {
        case "requestHeaders":
          this.#onRequestHeaders(msg, msg.requestHeaders ?? {});
          return;
        case "requestBody":
          this.#onRequestBody(msg.requestBody ?? {});
          return;
        case "requestTrailers":
          this.#onRequestTrailers();
          return;
        case "responseHeaders":
          this.#onResponseHeaders(msg, msg.responseHeaders ?? {});
          return;
        case "responseBody":
          this.#onResponseBody(msg.responseBody ?? {});
          return;
        case "responseTrailers":
          this.#onResponseTrailers();
          return;
        default:
          return; // a message kind this server does not use (e.g. flow-control window updates)
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Envoy reset the stream (client gone, timeout, Envoy shutting down): leave the queue, end the exchange. */
  reset(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    // While deciding, the exchange ends when decide settles (it rejects on the abort). After the
    // response completed, Envoy may reset rather than half-close: nothing is lost then.
    if (this.#phase !== "deciding" && this.#phase !== "done") {
      this.#exchange?.clientGone();
      this.#end();
    }
    this.#phase = "done";
  }

  /**
   * Envoy half-closed the stream (it has nothing more to send): end the exchange, close our side.
   * Before the response headers came, no response will: the client is gone (Envoy half-closes
   * rather than resets when the downstream request ends that way).
   */
  peerClosed(): void {
    if (this.#closed) return;
    const p = this.#phase;
    if (p === "deciding" || p === "requestBody" || p === "requestHeaders" || p === "routed") {
      this.reset();
      this.#deps.close();
      return;
    }
    // With response_body_mode NONE the body passed Envoy unseen: it is complete when Envoy closes.
    if (this.#phase === "responseBody" && this.#responseMode === BodySendMode.NONE) this.#complete();
    this.#end();
    this.#phase = "done";
    this.#closed = true;
    this.#deps.close();
  }

  #configure(msg: ProcessingRequest): void {
    this.#configured = true;
    const pc = msg.protocolConfig;
    if (!pc) return;
    this.#requestMode = pc.requestBodyMode ?? BodySendMode.NONE;
    this.#responseMode = pc.responseBodyMode ?? BodySendMode.NONE;
    this.#bodyBeforeHeaderAnswer = pc.sendBodyWithoutWaitingForHeaderResponse === true;
  }

  #onRequestHeaders(msg: ProcessingRequest, h: HttpHeaders): void {
    this.#expect("requestHeaders", "request headers");
    const { pseudo, headers } = readHeaderMap(h.headers);
    this.#pseudo = pseudo;
    const prefixes = this.#deps.options.controlHeaderPrefixes;
    for (const name in headers) if (prefixes.some((p) => name.startsWith(p))) this.#control.push(name);
    if (pseudo[":authority"] !== undefined && headers["host"] === undefined)
      headers["host"] = pseudo[":authority"];
    this.#headers = headers;
    const o = this.#deps.options;
    this.#subset = subsetHint(msg, o.subsetNamespace, o.subsetKey);

    const mode = this.#requestMode;
    if (h.endOfStream || mode === BodySendMode.NONE) {
      this.#decide();
      return;
    }
    if (mode === BodySendMode.GRPC)
      throw new GatewayError(
        "internal",
        "ext_proc request_body_mode GRPC is not supported; use FULL_DUPLEX_STREAMED",
      );
    if (mode === BodySendMode.STREAMED && !this.#bodyBeforeHeaderAnswer)
      throw new GatewayError(
        "internal",
        "ext_proc request_body_mode STREAMED routes on the headers alone; use FULL_DUPLEX_STREAMED or BUFFERED, " +
          "or set send_body_without_waiting_for_header_response",
      );
    this.#phase = "requestBody";
    if (mode === BodySendMode.BUFFERED || mode === BodySendMode.BUFFERED_PARTIAL) {
      // Envoy sends the body only after this answer; the decision rides on the body answer.
      this.#headersAnswered = true;
      this.#deps.send({
        requestHeaders: { response: this.#common(headerMutation({}, this.#control), undefined, false) },
      });
    }
  }

  #onRequestBody(b: HttpBody): void {
    this.#expect("requestBody", "a request body chunk");
    const chunk = b.body ?? EMPTY;
    this.#bodyBytes += chunk.length;
    this.#bodyMessages++;
    if (this.#bodyBytes > this.#deps.options.bodyLimit)
      throw new GatewayError(
        "payloadTooLarge",
        `request body is larger than ${this.#deps.options.bodyLimit} bytes`,
      );
    if (chunk.length > 0) this.#chunks.push(chunk);
    const buffered =
      this.#requestMode === BodySendMode.BUFFERED || this.#requestMode === BodySendMode.BUFFERED_PARTIAL;
    if (buffered && !b.endOfStream && this.#requestMode === BodySendMode.BUFFERED_PARTIAL)
      throw new GatewayError("payloadTooLarge", "request body is larger than Envoy's buffer limit");
    if (b.endOfStream || buffered) this.#decide();
  }

  #onRequestTrailers(): void {
    if (this.#phase === "requestBody") {
      this.#requestTrailers = true;
      this.#decide();
      return;
    }
    // Trailers after the body was answered (BUFFERED mode): nothing to change.
    this.#deps.send({ requestTrailers: {} });
  }

  #decide(): void {
    this.#phase = "deciding";
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    const exchange = this.#deps.begin(
      {
        method: this.#pseudo[":method"] ?? "POST",
        url: this.#pseudo[":path"] ?? "/",
        headers: this.#headers,
      },
      this.#subset,
    );
    this.#exchange = exchange;
    exchange.decide(body, this.#abort).then(
      (d) => this.#routed(d),
      (e: unknown) => this.#refused(e),
    );
  }

  #routed(d: Decision): void {
    if (this.#closed) {
      this.#exchange?.clientGone();
      this.#end();
      return;
    }
    try {
      this.#sendDecision(d);
    } catch (e) {
      this.#fail(e);
    }
  }

  #sendDecision(d: Decision): void {
    const target = d.endpoints[0];
    if (target === undefined) throw new GatewayError("noEndpoint", "the scheduler returned no endpoint");
    const o = this.#deps.options;
    const body = d.body;
    const rewritten = d.bodyRewritten ? d.body : undefined;
    const hadBody = this.#bodyMessages > 0;
    const set: Record<string, string> = { ...d.setHeaders, [o.destinationHeader]: target };
    if (hadBody) set["content-length"] = String(body.length);
    if (d.timeoutMs !== undefined) set["x-envoy-upstream-rq-timeout-ms"] = String(Math.ceil(d.timeoutMs));
    // Headers we set are overwritten, never also removed (Envoy applies sets and removes in its own order).
    const remove = [...new Set([...this.#control, ...d.removeHeaders])].filter((n) => !(n in set));
    const mutation = headerMutation(set, remove);
    const metadata = dynamicMetadata(o.metadataNamespace, o.destinationHeader, d.endpoints.join(","));
    this.#phase = "routed";

    if (this.#headersAnswered) {
      // BUFFERED: the headers went back already; mutation, body and metadata ride on the body answer.
      this.#deps.send({
        requestBody: {
          response: this.#common(mutation, rewritten ? { body: rewritten } : undefined),
        },
        dynamicMetadata: metadata,
      });
    } else {
      this.#deps.send({ requestHeaders: { response: this.#common(mutation) }, dynamicMetadata: metadata });
      if (hadBody && this.#requestMode === BodySendMode.STREAMED) this.#answerStreamedChunks(rewritten);
      else if (hadBody) this.#streamBody(body, !this.#requestTrailers, "requestBody");
      if (this.#requestTrailers) this.#deps.send({ requestTrailers: {} });
    }
    this.#attempt(target);
  }

  /** STREAMED: one answer per chunk Envoy sent; a rewritten body replaces the first, the rest are cleared. */
  #answerStreamedChunks(rewritten: Buffer | undefined): void {
    for (let i = 0; i < this.#bodyMessages; i++) {
      const mutation: BodyMutation | undefined =
        rewritten === undefined ? undefined : i === 0 ? { body: rewritten } : { clearBody: true };
      this.#deps.send({ requestBody: { response: this.#common(undefined, mutation) } });
    }
  }

  /** FULL_DUPLEX_STREAMED: `body` as StreamedBodyResponses of ≤ bodyChunkBytes, the last one flagged. */
  #streamBody(body: Buffer, endOfStream: boolean, phase: "requestBody" | "responseBody"): void {
    const size = this.#deps.options.bodyChunkBytes;
    let offset = 0;
    do {
      const part = body.subarray(offset, offset + size);
      offset += part.length;
      const last = offset >= body.length;
      this.#deps.send({
        [phase]: {
          response: { bodyMutation: { streamedResponse: { body: part, endOfStream: last && endOfStream } } },
        },
      });
    } while (offset < body.length);
  }

  #refused(e: unknown): void {
    // A reset stream aborted decide: the exchange knows the client went away (nobody to answer).
    if (this.#closed) this.#end();
    else this.#fail(e);
  }

  #onResponseHeaders(msg: ProcessingRequest, h: HttpHeaders): void {
    this.#expect("routed", "response headers");
    const exchange = this.#exchange!;
    const { pseudo, headers } = readHeaderMap(h.headers);
    const served = upstreamAddress(msg);
    if (served !== undefined) this.#attempt(served);
    const status = Number(pseudo[":status"] ?? 0);
    const action = exchange.responseStarted(status, headers);
    this.#phase = "responseBody";
    if (action.kind === "retry") {
      // Envoy, not igw, retries (its retry policy over the fallback list); what reaches ext_proc is
      // final. The epp's director runs with maxAttempts 1, so this is a misconfiguration: relay as is.
      this.#deps.logger?.warn(
        { status },
        "ext_proc: the exchange asked for a retry; passing the response through",
      );
      this.#passThrough = true;
      this.#deps.send({ responseHeaders: {} });
    } else {
      const mutation = headerMutation(action.head.setHeaders, action.head.removeHeaders);
      this.#deps.send({ responseHeaders: { response: this.#common(mutation, undefined, false) } });
    }
    if (h.endOfStream) this.#complete();
  }

  #onResponseBody(b: HttpBody): void {
    this.#expect("responseBody", "a response body chunk");
    const exchange = this.#exchange!;
    const chunk = b.body ?? EMPTY;
    const mode = this.#responseMode;
    const whole = mode === BodySendMode.BUFFERED || mode === BodySendMode.BUFFERED_PARTIAL;
    const eos = b.endOfStream === true || whole;
    let out = this.#passThrough ? chunk : exchange.responseChunk(chunk);
    if (eos && !this.#passThrough) {
      const tail = exchange.responseEnd();
      if (tail.length > 0) out = Buffer.concat([out, tail]);
    }
    if (mode === BodySendMode.FULL_DUPLEX_STREAMED) {
      if (out.length > 0 || eos) this.#streamBody(out, b.endOfStream === true, "responseBody");
    } else {
      // STREAMED / BUFFERED: one answer per message; unchanged bytes need no mutation.
      const mutation: BodyMutation | undefined =
        out === chunk ? undefined : out.length > 0 ? { body: out } : { clearBody: true };
      this.#deps.send({ responseBody: { response: this.#common(undefined, mutation, false) } });
    }
    if (eos) this.#complete();
  }

  #onResponseTrailers(): void {
    if (
      this.#phase === "responseBody" &&
      this.#responseMode === BodySendMode.FULL_DUPLEX_STREAMED &&
      !this.#passThrough
    ) {
      const tail = this.#exchange!.responseEnd();
      if (tail.length > 0) this.#streamBody(tail, false, "responseBody");
    }
    this.#deps.send({ responseTrailers: {} });
    this.#complete();
  }

  #complete(): void {
    if (this.#phase === "done") return;
    if (!this.#passThrough) this.#exchange?.responseEnd();
    this.#end();
    this.#phase = "done";
  }

  #attempt(endpoint: string): void {
    if (endpoint === this.#attempted) return;
    this.#attempted = endpoint;
    this.#exchange?.attempt(endpoint);
  }

  #common(mutation: ReturnType<typeof headerMutation>, body?: BodyMutation, clearRouteCache = true) {
    return {
      ...(mutation ? { headerMutation: mutation } : {}),
      ...(body ? { bodyMutation: body } : {}),
      ...(clearRouteCache ? { clearRouteCache: true } : {}),
    };
  }

  #expect(phase: Phase, what: string): void {
    if (this.#phase !== phase)
      throw new GatewayError("internal", `ext_proc protocol error: ${what} while in phase ${this.#phase}`);
  }

  /** Answers an ImmediateResponse (the gateway's status, headers and OpenAI JSON) and closes the stream. */
  #fail(e: unknown): void {
    if (this.#closed) return;
    if (!(e instanceof GatewayError)) this.#deps.logger?.error({ err: e }, "ext_proc stream failed");
    // A protocol error is Envoy's configuration or ours, never the client's: say so.
    else if (e.kind === "internal") this.#deps.logger?.warn({ reason: e.message }, "ext_proc stream failed");
    const exchange = this.#exchange;
    const rendered: ErrorResponse = exchange
      ? exchange.fail(e)
      : errorResponse(asGatewayError(e), this.#headers["x-request-id"]);
    // Envoy sets the local reply's content-length itself.
    const { "content-length": _, ...headers } = rendered.headers;
    this.#deps.send({
      immediateResponse: {
        status: { code: rendered.status },
        headers: headerMutation(headers)!,
        body: Buffer.from(rendered.body),
        details: asGatewayError(e).toJSON().error.code,
      },
    });
    this.#phase = "done";
    this.#closed = true;
    this.#abort.abort();
    this.#end();
    this.#deps.close();
  }

  #end(): void {
    if (this.#ended || !this.#exchange) return;
    this.#ended = true;
    this.#exchange.end();
  }
}
