/**
 * One request as an exchange owned by the core. The adapter (proxy, ext_proc) only moves bytes and
 * reports what happened; the exchange runs the stages and keeps the books:
 *
 *   decide()           parse → route (or the given pool) → resolve → prepare (the scheduler's
 *                      request preparers) → admit (an empty pool: for at most its no-endpoint TTL)
 *                      → schedule; charges the target's in-flight count in the same event-loop
 *                      turn as the admission
 *   attempt(id)        an attempt starts on `id` (the charge moves there when it is a fallback)
 *   responseStarted()  the engine's status line: relay it (head for the client) or retry elsewhere
 *   attemptFailed()    no usable response: the next endpoint to try, or none
 *   responseChunk()/responseEnd()   response processing: model rewrite back, usage, first token
 *   fail()/breakResponse()          an error before / after the response started, rendered
 *   end()              exactly once in effect: releases in-flight, notifies the admitter, `end` hook
 *
 * Every method is idempotent, and none throws after decide(). The adapter calls end() in a
 * `finally`, so in-flight is released on every path by one owner.
 */
import { randomUUID } from "node:crypto";
import { type AbortLike, NEVER } from "../cancellation.ts";
import { ErrorKinds, GatewayError } from "../errors.ts";
import { expectedKvTokens } from "../flowcontrol/saturation/projected-kv.ts";
import type { InFlight } from "../modelserver/endpoint-metrics.ts";
import type { Candidate, SchedulingRequest } from "../scheduling/types.ts";
import type {
  AttemptFailure,
  Decision,
  ErrorResponse,
  ExchangeEntry,
  InboundRequest,
  ResponseAction,
  ResponseHead,
} from "./decision.ts";
import { upstreamBody, vllmPriority } from "./engine-priority.ts";
import { asGatewayError, errorResponse } from "./error-response.ts";
import type { ExchangeContext } from "./exchange-context.ts";
import type { ExchangeOutcome, ExchangeView, RequestFamily } from "./exchange-view.ts";
import type { JsonBudget } from "./json-budget.ts";
import { NoEndpointExpiry, noEndpointMessage } from "./no-endpoint-expiry.ts";
import { parseRequest } from "./parse-request.ts";
import type { PoolRuntime } from "./pool-runtimes.ts";
import { buildFlowRequest, buildSchedulingRequest } from "./request-facts.ts";
import { resolveModel } from "./resolve-model.ts";
import { ResponseRelay } from "./response-relay.ts";
import {
  DECISION_HEADER,
  MODEL_NAME_HEADER,
  REQUEST_ID_HEADER,
  SERVED_ENDPOINT_HEADER,
} from "./wire-headers.ts";

/** The exchange's record, as hook subscribers see it (fields written only by the exchange). */
class ExchangeRecord implements ExchangeView {
  id: string;
  readonly method: string;
  path: string;
  readonly receivedAt: number;
  requestBytes = 0;
  clientModel: string | undefined = undefined;
  targetModel: string | undefined = undefined;
  poolKey: string | undefined = undefined;
  priority: number | undefined = undefined;
  flowId: string | undefined = undefined;
  family: RequestFamily = "model";
  knownModel = false;
  stream = false;
  admittedAt: number | undefined = undefined;
  queuedAt: number | undefined = undefined;
  endpoints: readonly string[] = [];
  endpoint: string | undefined = undefined;
  attempts = 0;
  explanation: ExchangeView["explanation"] = undefined;
  status: number | undefined = undefined;
  respondedAt: number | undefined = undefined;
  firstTokenAt: number | undefined = undefined;
  endedAt: number | undefined = undefined;
  responseBytes = 0;
  promptTokens: number | undefined = undefined;
  completionTokens: number | undefined = undefined;
  errorCode: string | undefined = undefined;
  errorMessage: string | undefined = undefined;
  outcome: ExchangeOutcome | undefined = undefined;

  constructor(inbound: InboundRequest, now: number) {
    const id = inbound.headers[REQUEST_ID_HEADER];
    this.id = typeof id === "string" && id !== "" ? id : randomUUID();
    this.method = inbound.method;
    const q = inbound.url.indexOf("?");
    this.path = q < 0 ? inbound.url : inbound.url.slice(0, q);
    this.receivedAt = now;
  }
}

/** The in-flight charge the exchange holds on one endpoint (the live record, kept across reloads). */
interface Charge {
  readonly id: string;
  readonly inFlight: InFlight;
  /** What was added to inFlight.kvTokens (it depends on the endpoint's learned output length). */
  readonly kvTokens: number;
}

export class Exchange {
  readonly #ctx: ExchangeContext;
  readonly #inbound: InboundRequest;
  readonly #entry: ExchangeEntry;
  readonly #record: ExchangeRecord;
  #decision: Promise<Decision> | undefined;
  #runtime: PoolRuntime | undefined;
  #scheduling: SchedulingRequest | undefined;
  /** The scheduler's choice (target first), then endpoints scheduled afresh on retries. */
  #chosen: Candidate[] = [];
  /** Endpoints attempted so far (a few at most: an array beats a Set). */
  #tried: string[] = [];
  #charge: Charge | undefined;
  #tokenCharge = 0;
  #relay: ResponseRelay | undefined;
  #retrying = false;
  #next: string | undefined;
  #failedAttempt = -1;
  /** Why scheduling failed inside #onAdmitted (rethrown by decide). */
  #scheduleError: unknown = undefined;
  /** `endpoint: reason` of the last failed attempt, for the 502 message. */
  #lastFailure = "";
  #completed = false;
  #errorRecorded = false;
  #clientGone = false;
  #ended = false;

  /** Created by Director.begin(); the `received` hook fires here. */
  constructor(ctx: ExchangeContext, inbound: InboundRequest, entry: ExchangeEntry) {
    this.#ctx = ctx;
    this.#inbound = inbound;
    this.#entry = entry;
    this.#record = new ExchangeRecord(inbound, ctx.now());
    ctx.hooks.emit("received", this.#record);
  }

  /** What subscribers and adapters may read. */
  get view(): ExchangeView {
    return this.#record;
  }

  /** The request id (`x-request-id`: the client's, else generated at begin). */
  get id(): string {
    return this.#record.id;
  }

  /**
   * Runs the stages up to scheduling on the complete request `body`. Resolves with the decision,
   * or rejects with a GatewayError (already recorded: send `fail(e)`'s response unless the client
   * is gone). `signal` aborts a queued request (it leaves the queue at once). Calling it again
   * returns the same promise.
   */
  decide(body: Buffer, signal?: AbortLike, budget?: JsonBudget): Promise<Decision> {
    this.#decision ??= this.#decide(body, signal, budget);
    return this.#decision;
  }

  /** `budget`: the body's parse-cost scan when the adapter fed it the bytes as they arrived. */
  async #decide(
    body: Buffer,
    signal: AbortLike | undefined,
    budget: JsonBudget | undefined,
  ): Promise<Decision> {
    const r = this.#record;
    const ctx = this.#ctx;
    r.requestBytes = body.length;
    try {
      const parsed = parseRequest(this.#inbound, body, r.id, budget);
      r.clientModel = parsed.model;
      r.stream = parsed.stream;
      const config = ctx.datastore.config;
      const routed =
        this.#entry.kind === "listeners"
          ? ctx.route(config, parsed, this.#entry.listenerKeys)
          : { poolKey: this.#entry.poolKey, timeoutMs: undefined };
      const resolution = resolveModel(config, routed.poolKey, parsed.model, parsed.headers, ctx.random);
      const runtime = ctx.runtime(routed.poolKey);
      if (!runtime) throw new GatewayError("noEndpoint", `InferencePool ${routed.poolKey} is not loaded`);
      this.#runtime = runtime;
      r.poolKey = routed.poolKey;
      r.targetModel = resolution.targetModel;
      r.priority = resolution.priority;
      r.family = resolution.source === "InferenceObjective" ? "objective" : "model";
      r.knownModel = resolution.source !== "passthrough" || ctx.servesModel(routed.poolKey, parsed.model);
      ctx.hooks.emit("routed", r);

      const isAdapter =
        ctx.datastore.servedModels(routed.poolKey)?.adapters.has(resolution.targetModel) ?? false;
      const scheduling = buildSchedulingRequest(parsed, resolution, isAdapter);
      this.#scheduling = scheduling;
      // The request's own preparation (tokens, block hashes), once, before it queues: the decision
      // then only matches it against the endpoints, and the admitter's dispatch does not wait for it.
      for (const p of runtime.scheduling.preparers) p.prepareRequest(scheduling);
      this.#tokenCharge = scheduling.promptTokens + (parsed.maxTokens ?? 0);
      // An empty pool: queueing may hold the request until an endpoint joins, for at most the TTL.
      const expiry =
        ctx.datastore.poolEndpoints(routed.poolKey).length === 0
          ? new NoEndpointExpiry(
              ctx.datastore,
              routed.poolKey,
              runtime.failurePolicy.noEndpointTTLMs,
              signal,
              ctx.timers,
            )
          : undefined;
      if (expiry?.expired) throw expiry.error();
      const flow = buildFlowRequest(
        parsed,
        resolution,
        expiry ?? signal ?? NEVER,
        this.#onQueued,
        this.#onAdmitted,
      );
      r.flowId = flow.flowId;
      try {
        await runtime.admitter.admit(flow);
      } catch (e) {
        throw expiry?.expired ? expiry.error() : e;
      } finally {
        expiry?.dispose();
      }
      if (this.#scheduleError !== undefined) throw this.#scheduleError;

      const upstream = upstreamBody(
        parsed,
        resolution.targetModel,
        resolution.clientModel,
        runtime.pool.enginePriority ? vllmPriority(resolution.priority) : undefined,
      );
      const setHeaders: Record<string, string> = {
        [REQUEST_ID_HEADER]: parsed.id,
        [MODEL_NAME_HEADER]: parsed.model,
      };
      return {
        requestId: parsed.id,
        poolKey: routed.poolKey,
        url: this.#inbound.url,
        endpoints: r.endpoints,
        body: upstream.body,
        bodyRewritten: upstream.rewritten,
        setHeaders,
        removeHeaders: parsed.removedHeaders,
        timeoutMs: routed.timeoutMs,
        priority: resolution.priority,
        clientModel: resolution.clientModel,
        targetModel: resolution.targetModel,
        stream: parsed.stream,
        explanation: r.explanation,
      };
    } catch (e) {
      if (signal?.aborted) this.#clientGone = true;
      else this.#recordError(asGatewayError(e));
      throw e;
    }
  }

  readonly #onQueued = (): void => {
    this.#record.queuedAt = this.#ctx.now();
    this.#ctx.hooks.emit("queued", this.#record);
  };

  /**
   * Admission, synchronously inside the admitter: schedule and charge in-flight at once, so the
   * admitter's next saturation check (even in the same turn) sees this request.
   */
  readonly #onAdmitted = (): void => {
    const r = this.#record;
    const ctx = this.#ctx;
    try {
      r.admittedAt = ctx.now();
      ctx.hooks.emit("admitted", r);
      const target = this.#schedule();
      this.#chargeTo(target);
      r.endpoints = this.#chosen.map((c) => c.endpoint.id);
      ctx.hooks.emit("scheduled", r);
    } catch (e) {
      this.#scheduleError = e;
    }
  };

  /** The first decision; throws shed / noEndpoint when the scheduler keeps no endpoint. */
  #schedule(): Candidate {
    const ctx = this.#ctx;
    const r = this.#record;
    const poolKey = r.poolKey!;
    const candidates = this.#candidates();
    const t0 = performance.now();
    const result = this.#runtime!.scheduling.scheduler.schedule(this.#scheduling!, candidates);
    ctx.observeDecision((performance.now() - t0) / 1000, result.endpoints.length > 0);
    if (result.endpoints.length === 0 && candidates.length > 0)
      // The scheduler's filters kept no endpoint (e.g. the legacy tree for non-critical work when
      // every server is busy): refused as in the Inference Extension, 429.
      throw new GatewayError("shed", `no endpoint of InferencePool ${poolKey} can take this request now`, {
        retryAfterSeconds: 1,
      });
    if (result.endpoints.length === 0)
      throw new GatewayError("noEndpoint", noEndpointMessage(ctx.datastore, poolKey), {
        retryAfterSeconds: 1,
      });
    this.#chosen = result.endpoints;
    r.explanation = result.explanation;
    return result.endpoints[0]!;
  }

  /** The pool's candidates, narrowed to the data plane's subset hint when it gave one. */
  #candidates(): readonly Candidate[] {
    const all = this.#ctx.datastore.candidates(this.#record.poolKey!);
    if (this.#entry.kind !== "pool" || this.#entry.subset === undefined) return all;
    const subset = new Set(this.#entry.subset);
    return all.filter((c) => subset.has(c.endpoint.id));
  }

  /** Moves the in-flight charge to `c` and runs the pre-request hooks (prefix index) for it. */
  #chargeTo(c: Candidate): void {
    if (this.#charge?.id === c.endpoint.id) return;
    this.#release();
    const s = this.#scheduling!;
    const kvTokens = expectedKvTokens(s.promptTokens, s.maxTokens, c.metrics.counters);
    c.inFlight.requests++;
    c.inFlight.tokens += this.#tokenCharge;
    c.inFlight.kvTokens += kvTokens;
    this.#charge = { id: c.endpoint.id, inFlight: c.inFlight, kvTokens };
    for (const hook of this.#runtime!.scheduling.preRequestHooks) hook.preRequest(this.#scheduling!, c);
  }

  #release(): void {
    const charge = this.#charge;
    if (!charge) return;
    this.#charge = undefined;
    charge.inFlight.requests = Math.max(0, charge.inFlight.requests - 1);
    charge.inFlight.tokens = Math.max(0, charge.inFlight.tokens - this.#tokenCharge);
    charge.inFlight.kvTokens = Math.max(0, charge.inFlight.kvTokens - charge.kvTokens);
  }

  /** An attempt starts on `endpointId` (one of the decision's endpoints or attemptFailed's answer). */
  attempt(endpointId: string): void {
    if (this.#ended || this.#tried.includes(endpointId) || this.#scheduling === undefined) return;
    const c =
      this.#chosen.find((x) => x.endpoint.id === endpointId) ??
      this.#candidates().find((x) => x.endpoint.id === endpointId);
    if (c) this.#chargeTo(c);
    this.#tried.push(endpointId);
    this.#retrying = false;
    this.#next = undefined;
    const r = this.#record;
    r.endpoint = endpointId;
    r.attempts++;
    this.#ctx.hooks.emit("attempt", r);
  }

  /**
   * The engine's status line and headers arrived for the current attempt. A 5xx (or a status the
   * pool's retry policy names, 429 by default) is retried while attempts and endpoints are left;
   * anything else is committed: the head says what to send.
   */
  responseStarted(status: number, headers: Readonly<Record<string, unknown>>): ResponseAction {
    const r = this.#record;
    const id = r.endpoint;
    if (this.#relay) return { kind: "relay", head: this.#head() };
    if (id !== undefined) {
      if (this.#ctx.datastore.markReachable(id))
        this.#ctx.logger?.info({ endpoint: id }, `endpoint ${id} answers again`);
      if (r.poolKey !== undefined) this.#ctx.outliers.record(r.poolKey, id, { kind: "answer", status });
    }
    const retriable = status >= 500 || this.#runtime?.failurePolicy.retriableStatusCodes.has(status) === true;
    if (retriable && !this.#ended && this.#peekNext() !== undefined) {
      this.#retrying = true;
      return { kind: "retry" };
    }
    r.status = status;
    r.respondedAt = this.#ctx.now();
    if (status >= 400) r.errorCode = `upstream_${status}`;
    this.#relay = new ResponseRelay(r.targetModel ?? "", r.clientModel ?? "");
    if (String(headers["content-type"] ?? "").startsWith("text/event-stream")) this.#relay.streaming();
    return { kind: "relay", head: this.#head() };
  }

  #head(): ResponseHead {
    const r = this.#record;
    const setHeaders: Record<string, string> = { [REQUEST_ID_HEADER]: r.id };
    if (r.endpoint !== undefined) {
      setHeaders[SERVED_ENDPOINT_HEADER] = r.endpoint;
      const extra = this.#runtime?.scheduling.responseHeaders?.(r.endpoint);
      if (extra) Object.assign(setHeaders, extra);
    }
    if (this.#ctx.explainHeader && r.explanation) setHeaders[DECISION_HEADER] = JSON.stringify(r.explanation);
    return {
      status: r.status ?? 200,
      setHeaders,
      removeHeaders: this.#relay?.rewrites ? ["content-length"] : [],
    };
  }

  /**
   * The current attempt gave no usable response. Returns the endpoint to try next, or undefined
   * when none is left (or the failure is not retryable): then send `fail()`'s response.
   */
  attemptFailed(failure: AttemptFailure): string | undefined {
    const r = this.#record;
    if (this.#failedAttempt === r.attempts) return this.#next;
    this.#failedAttempt = r.attempts;
    const id = r.endpoint;
    this.#lastFailure = id === undefined ? describeFailure(failure) : `${id}: ${describeFailure(failure)}`;
    if (failure.kind === "connect" && id !== undefined) {
      if (r.poolKey !== undefined) this.#ctx.outliers.record(r.poolKey, id, { kind: "connect" });
      const backoff = this.#ctx.datastore.markUnreachable(id);
      if (backoff?.started)
        this.#ctx.logger?.warn(
          { endpoint: id, reason: failure.reason, backoffMs: backoff.backoffMs },
          `endpoint ${id} could not be reached (${failure.reason}); not scheduling it for ${backoff.backoffMs} ms`,
        );
    }
    this.#retrying = false;
    this.#next = failure.kind === "error" || this.#ended ? undefined : this.#peekNext();
    return this.#next;
  }

  /** The next endpoint a retry would use: a scheduled fallback, else a fresh decision over the rest. */
  #peekNext(): string | undefined {
    if (this.#tried.length >= this.#ctx.maxAttempts || this.#scheduling === undefined) return undefined;
    const fallback = this.#chosen.find((c) => !this.#tried.includes(c.endpoint.id));
    if (fallback) return fallback.endpoint.id;
    const rest = this.#candidates().filter((c) => !this.#tried.includes(c.endpoint.id));
    if (rest.length === 0) return undefined;
    const next = this.#runtime!.scheduling.scheduler.schedule(this.#scheduling, rest).endpoints[0];
    if (next) this.#chosen.push(next);
    return next?.endpoint.id;
  }

  /** Bytes to send the client for one chunk of the engine's body (the same Buffer when unchanged). */
  responseChunk(chunk: Buffer): Buffer {
    const relay = this.#relay;
    if (!relay || this.#retrying) return EMPTY;
    const out = relay.push(chunk);
    const r = this.#record;
    r.responseBytes += out.length;
    if (r.firstTokenAt === undefined && relay.firstTokenSeen) {
      r.firstTokenAt = this.#ctx.now();
      this.#ctx.hooks.emit("firstToken", r);
    }
    return out;
  }

  /** The engine's body ended: the bytes still held, to send before ending the client's response. */
  responseEnd(): Buffer {
    const relay = this.#relay;
    if (!relay || this.#retrying || this.#completed) return EMPTY;
    const rest = relay.end();
    const r = this.#record;
    r.responseBytes += rest.length;
    r.promptTokens = relay.promptTokens;
    r.completionTokens = relay.completionTokens;
    if (r.firstTokenAt === undefined && r.responseBytes > 0) {
      r.firstTokenAt = this.#ctx.now();
      this.#ctx.hooks.emit("firstToken", r);
    }
    this.#completed = true;
    // An engine's error event inside a 200 stream is a failed request (counted as an error).
    if (relay.streamError && !this.#errorRecorded) {
      this.#errorRecorded = true;
      r.errorCode = "upstream_stream_error";
      r.errorMessage = "the model server sent an error event in the stream";
      this.#ctx.hooks.emit("error", r);
    }
    this.#ctx.hooks.emit("responseDone", r);
    return rest;
  }

  /**
   * The exchange failed before a response was committed (refused, upstream failure, timeout): the
   * error is recorded (the `error` hook fires once) and rendered for the wire. `e` undefined = the
   * upstream failure that attemptFailed saw last.
   */
  fail(e?: unknown): ErrorResponse {
    const err =
      e === undefined
        ? new GatewayError(
            "upstreamFailure",
            `the model server failed after ${this.#record.attempts} attempt${this.#record.attempts === 1 ? "" : "s"} (${this.#lastFailure || "no endpoint"})`,
          )
        : asGatewayError(e);
    this.#recordError(err);
    return errorResponse(err, this.#record.id || undefined);
  }

  /**
   * The committed response broke (the engine died or timed out mid-body). Records the failure and
   * returns what to send before closing: an SSE error event for a stream, nothing for JSON.
   */
  breakResponse(reason: string): Buffer {
    if (this.#completed || this.#ended) return EMPTY;
    this.#recordBroken(reason);
    if (!this.#relay?.isStream) return EMPTY;
    const k = ErrorKinds.upstreamFailure;
    const event = {
      error: {
        message: `the model server's response broke off: ${reason}`,
        type: k.type,
        param: null,
        code: k.code,
      },
    };
    return Buffer.from(`data: ${JSON.stringify(event)}\n\n`);
  }

  /** The client went away: the exchange ends as `client_gone` at end(). */
  clientGone(): void {
    if (!this.#completed) this.#clientGone = true;
  }

  /** Whether the client went away before the response completed. */
  get isClientGone(): boolean {
    return this.#clientGone;
  }

  /**
   * Ends the exchange: releases the in-flight charge, notifies the pool's admitter, fires `end`.
   * Only the first call acts. Call it in a `finally` on every path.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
    const r = this.#record;
    if (this.#completed) r.outcome = "completed";
    else if (this.#clientGone) {
      r.outcome = "client_gone";
      r.errorCode = "client_disconnected";
      r.status ??= 499;
    } else if (this.#relay) {
      r.outcome = "broken";
      this.#recordBroken("the response ended before it was complete");
    } else {
      r.outcome = "refused";
      if (!this.#errorRecorded)
        this.#recordError(new GatewayError("internal", "the request ended without a response"));
    }
    r.endedAt = this.#ctx.now();
    if (this.#runtime) {
      // A request that reached an engine completed work of its priority (its band may reclaim the room).
      if (r.attempts > 0) this.#runtime.admitter.notify(r.priority);
      else this.#runtime.admitter.notify();
    }
    this.#ctx.hooks.emit("end", r);
  }

  /** A committed response that broke counts as an error of its own code (mid-stream errors). */
  #recordBroken(reason: string): void {
    if (this.#errorRecorded) return;
    this.#errorRecorded = true;
    this.#record.errorCode = "upstream_stream_broken";
    this.#record.errorMessage = reason;
    this.#ctx.hooks.emit("error", this.#record);
  }

  #recordError(err: GatewayError): void {
    if (this.#errorRecorded) return;
    this.#errorRecorded = true;
    const r = this.#record;
    r.errorCode = ErrorKinds[err.kind].code;
    r.errorMessage = err.message;
    if (!this.#relay) r.status = err.status;
    this.#ctx.hooks.emit("error", r);
  }
}

const EMPTY = Buffer.alloc(0);

function describeFailure(f: AttemptFailure): string {
  return f.kind === "status" ? `HTTP ${f.status}` : f.reason;
}
