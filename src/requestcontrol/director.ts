/**
 * The director: the request path as named stages, shared by the HTTP proxy and (later) ext_proc.
 *
 *   prepare():  parse & validate → route → resolve model/objective → admit → schedule
 *   startAttempt(): pre-request hooks, in-flight accounting (per endpoint tried)
 *   endAttempt():   in-flight accounting
 *   finish():   metrics, admitter.notify()
 *
 * The adapter forwards between startAttempt and endAttempt, and may retry on `nextEndpoint()`.
 */
import type { ListenerRecord } from "../api/gateway.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import { ErrorKinds, GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import type { SchedulerMetrics } from "../observability/scheduler-metrics.ts";
import type { Candidate, DecisionExplanation, SchedulingRequest } from "../scheduling/types.ts";
import { type InboundRequest, type ParsedRequest, parseRequest } from "./parse-request.ts";
import type { PoolRuntime } from "./pool-runtimes.ts";
import { PoolRuntimes } from "./pool-runtimes.ts";
import { buildFlowRequest, buildSchedulingRequest } from "./request-facts.ts";
import { type ModelResolution, resolveModel } from "./resolve-model.ts";
import type { ResponseOutcome } from "./response-hook.ts";
import { pickBackend, RouteTable } from "./route-table.ts";

/** A request that passed admission and scheduling, ready to forward. */
export interface PreparedRequest {
  readonly parsed: ParsedRequest;
  readonly poolKey: string;
  readonly resolution: ModelResolution;
  readonly scheduling: SchedulingRequest;
  /** Body to send upstream (`model` rewritten when the target differs). */
  readonly body: Buffer;
  /** Whole-request timeout in ms; undefined = none. */
  readonly timeoutMs: number | undefined;
  /** Scheduler's choice: target first, then fallbacks. Never empty. */
  readonly endpoints: readonly Candidate[];
  /** Why the scheduler chose it (only with DirectorOptions.explainDecisions). */
  readonly explanation?: DecisionExplanation;
  /** `performance.now()` at arrival. */
  readonly receivedAt: number;
  readonly runtime: PoolRuntime;
  /** In-flight tokens charged per attempt: prompt estimate + max output tokens (when given). */
  readonly tokenCharge: number;
}

export interface DirectorOptions {
  readonly metrics?: GatewayMetrics;
  readonly random?: () => number;
  /** Scheduler metrics (decision and plugin latency, prefix index). */
  readonly schedulerMetrics?: SchedulerMetrics;
  /** Attach a DecisionExplanation to every PreparedRequest (explanation header, debug log). */
  readonly explainDecisions?: boolean;
}

export class Director {
  readonly #datastore: Datastore;
  readonly #runtimes: PoolRuntimes;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #random: () => number;
  readonly #schedulerMetrics: SchedulerMetrics | undefined;
  #routes: RouteTable;
  #unsubscribe: () => void;
  #modelNames: { config: ConfigSnapshot; names: ReadonlySet<string> } | undefined;

  constructor(datastore: Datastore, options: DirectorOptions = {}) {
    this.#datastore = datastore;
    this.#metrics = options.metrics;
    this.#random = options.random ?? Math.random;
    this.#schedulerMetrics = options.schedulerMetrics;
    const sm = options.schedulerMetrics;
    this.#runtimes = new PoolRuntimes(datastore, {
      ...(options.metrics && { flowControlMetrics: options.metrics.flowControl }),
      schedulerDeps: {
        ...(options.explainDecisions ? { explain: true } : {}),
        ...(sm
          ? { observe: sm.observePlugin, onPlugins: (pool, plugins) => sm.setPoolPlugins(pool, plugins) }
          : {}),
      },
    });
    this.#routes = new RouteTable(datastore.config.routes);
    this.#unsubscribe = datastore.onConfigChanged((config) => {
      this.#routes = new RouteTable(config.routes);
      this.#runtimes.update(config);
      this.#schedulerMetrics?.retainPools(new Set(config.pools.keys()));
    });
  }

  /** Endpoint metrics were refreshed (the scraper calls this): admitters dispatch what now fits. */
  metricsRefreshed(): void {
    this.#runtimes.notifyAll();
  }

  /** Per-pool runtime (scheduler, admitter), for adapters and tests. */
  runtime(poolKey: string): PoolRuntime | undefined {
    return this.#runtimes.get(poolKey);
  }

  /**
   * Stages parse → route → resolve → admit → schedule. `listenerKeys`: listeners the request
   * arrived on. `signal` aborts admission when the client goes away. Throws GatewayError.
   */
  async prepare(
    inbound: InboundRequest,
    listenerKeys: readonly string[],
    signal: AbortSignal,
  ): Promise<PreparedRequest> {
    const receivedAt = performance.now();
    let parsed: ParsedRequest | undefined;
    try {
      parsed = parseRequest(inbound);
      const config = this.#datastore.config;
      const { poolKey, timeoutMs } = this.#route(config, parsed, listenerKeys);
      const resolution = resolveModel(config, poolKey, parsed.model, parsed.headers, this.#random);
      return await this.#admitAndSchedule(parsed, poolKey, resolution, timeoutMs, receivedAt, signal);
    } catch (e) {
      if (e instanceof GatewayError && !(e as { counted?: boolean }).counted)
        this.#metrics?.rejected(
          parsed && this.#knownModels().has(parsed.model) ? parsed.model : "",
          ErrorKinds[e.kind].code,
        );
      throw e;
    }
  }

  #route(
    config: ConfigSnapshot,
    parsed: ParsedRequest,
    listenerKeys: readonly string[],
  ): { poolKey: string; timeoutMs: number | undefined } {
    const match = this.#routes.match(listenerKeys, {
      method: parsed.method,
      path: parsed.path,
      ...(parsed.headers["host"] !== undefined ? { host: parsed.headers["host"] } : {}),
      headers: parsed.headers,
      query: parsed.query,
    });
    if (!match) {
      if (!this.#knownModels().has(parsed.model) && this.#allPoolsHaveModels())
        throw new GatewayError("modelNotFound", `The model '${parsed.model}' does not exist`, {
          param: "model",
        });
      throw new GatewayError(
        "noRoute",
        `no route for ${parsed.method} ${parsed.path} with model '${parsed.model}'`,
        {
          param: "model",
        },
      );
    }
    const backend = pickBackend(match.rule.backends, this.#random);
    if (!backend)
      throw new GatewayError("noEndpoint", `route ${match.route.key} has no backend with a weight above 0`);
    return {
      poolKey: backend.poolKey,
      timeoutMs: timeoutFor(config, match.route.key, match.rule.requestTimeoutMs, listenerKeys),
    };
  }

  async #admitAndSchedule(
    parsed: ParsedRequest,
    poolKey: string,
    resolution: ModelResolution,
    timeoutMs: number | undefined,
    receivedAt: number,
    signal: AbortSignal,
  ): Promise<PreparedRequest> {
    const runtime = this.#runtimes.get(poolKey);
    if (!runtime) throw new GatewayError("noEndpoint", `InferencePool ${poolKey} is not loaded`);
    const isAdapter = this.#datastore.servedModels(poolKey)?.adapters.has(resolution.targetModel) ?? false;
    const scheduling = buildSchedulingRequest(parsed, resolution, isAdapter);
    const family = resolution.source === "InferenceObjective" ? "objective" : "model";
    this.#metrics?.started(family, resolution.clientModel, resolution.targetModel);
    try {
      await runtime.admitter.admit(buildFlowRequest(parsed, resolution, signal));
      const candidates = this.#datastore.candidates(poolKey);
      const t0 = performance.now();
      const result = runtime.scheduling.scheduler.schedule(scheduling, candidates);
      this.#schedulerMetrics?.observeDecision((performance.now() - t0) / 1000, result.endpoints.length > 0);
      if (result.endpoints.length === 0 && candidates.length > 0)
        // The scheduler's filters kept no endpoint (e.g. the legacy tree for non-critical work
        // when every server is busy): refused as in the Inference Extension, 429.
        throw new GatewayError("shed", `no endpoint of InferencePool ${poolKey} can take this request now`, {
          retryAfterSeconds: 1,
        });
      if (result.endpoints.length === 0)
        throw new GatewayError("noEndpoint", `no ready endpoint in InferencePool ${poolKey}`, {
          retryAfterSeconds: 1,
        });
      const body =
        resolution.targetModel === resolution.clientModel
          ? parsed.rawBody
          : Buffer.from(JSON.stringify({ ...parsed.body, model: resolution.targetModel }));
      return {
        parsed,
        poolKey,
        resolution,
        scheduling,
        body,
        timeoutMs,
        endpoints: result.endpoints,
        ...(result.explanation ? { explanation: result.explanation } : {}),
        receivedAt,
        runtime,
        tokenCharge: scheduling.promptTokens + (parsed.maxTokens ?? 0),
      };
    } catch (e) {
      const code = e instanceof GatewayError ? ErrorKinds[e.kind].code : "internal_error";
      this.#metrics?.finished({
        family,
        modelName: resolution.clientModel,
        targetModel: resolution.targetModel,
        requestBytes: parsed.rawBody.length,
        responseBytes: 0,
        durationMs: performance.now() - receivedAt,
        streamed: parsed.stream,
        errorCode: code,
      });
      runtime.admitter.notify();
      if (e instanceof GatewayError) Object.assign(e, { counted: true });
      throw e;
    }
  }

  /** The next endpoint to try after `tried` failed: a scheduled fallback, else a fresh decision. */
  nextEndpoint(p: PreparedRequest, tried: ReadonlySet<string>): Candidate | undefined {
    const fallback = p.endpoints.find((c) => !tried.has(c.endpoint.id));
    if (fallback) return fallback;
    const rest = this.#datastore.candidates(p.poolKey).filter((c) => !tried.has(c.endpoint.id));
    if (rest.length === 0) return undefined;
    return p.runtime.scheduling.scheduler.schedule(p.scheduling, rest).endpoints[0];
  }

  /** Before sending to `c`: pre-request hooks, then in-flight accounting. Pair with endAttempt. */
  startAttempt(p: PreparedRequest, c: Candidate): void {
    for (const hook of p.runtime.scheduling.preRequestHooks) hook.preRequest(p.scheduling, c);
    const inFlight = this.#datastore.endpoint(c.endpoint.id)?.inFlight ?? c.inFlight;
    inFlight.requests++;
    inFlight.tokens += p.tokenCharge;
  }

  /** The attempt on `c` ended (response finished, failed or was retried elsewhere). */
  endAttempt(p: PreparedRequest, c: Candidate): void {
    const inFlight = this.#datastore.endpoint(c.endpoint.id)?.inFlight ?? c.inFlight;
    inFlight.requests = Math.max(0, inFlight.requests - 1);
    inFlight.tokens = Math.max(0, inFlight.tokens - p.tokenCharge);
  }

  /** The attempt on `c` got no response (connection refused, reset or timed out): back off from it. */
  connectionFailed(c: Candidate): { backoffMs: number; started: boolean } | undefined {
    return this.#datastore.markUnreachable(c.endpoint.id);
  }

  /** `c` answered (any status): it is reachable. True when it was backing off. */
  responded(c: Candidate): boolean {
    return this.#datastore.markReachable(c.endpoint.id);
  }

  /** The request is over: metrics, and a notify() to the pool's admitter. */
  finish(
    p: PreparedRequest,
    _endpoint: Candidate | undefined,
    outcome: ResponseOutcome & { responseBytes: number; errorCode?: string },
  ): void {
    const r = p.resolution;
    this.#metrics?.finished({
      family: r.source === "InferenceObjective" ? "objective" : "model",
      modelName: r.clientModel,
      targetModel: r.targetModel,
      requestBytes: p.parsed.rawBody.length,
      responseBytes: outcome.responseBytes,
      durationMs: outcome.durationMs,
      ...(outcome.firstByteMs !== undefined ? { firstByteMs: outcome.firstByteMs } : {}),
      streamed: p.parsed.stream,
      ...(outcome.promptTokens !== undefined ? { promptTokens: outcome.promptTokens } : {}),
      ...(outcome.completionTokens !== undefined ? { completionTokens: outcome.completionTokens } : {}),
      ...(outcome.errorCode !== undefined ? { errorCode: outcome.errorCode } : {}),
    });
    p.runtime.admitter.notify(p.resolution.priority);
  }

  /** Every InferenceModel name of the current configuration (metric labels, 404 messages). */
  #knownModels(): ReadonlySet<string> {
    const config = this.#datastore.config;
    if (this.#modelNames?.config !== config) {
      const names = new Set<string>();
      for (const byName of config.models.values()) for (const name of byName.keys()) names.add(name);
      this.#modelNames = { config, names };
    }
    return this.#modelNames.names;
  }

  /** True when every pool lists its models (so an unlisted name is unknown, not passed through). */
  #allPoolsHaveModels(): boolean {
    const config = this.#datastore.config;
    for (const key of config.pools.keys()) if ((config.models.get(key)?.size ?? 0) === 0) return false;
    return true;
  }

  /** Stops following configuration changes and closes admitters. */
  close(): void {
    this.#unsubscribe();
    this.#runtimes.close();
  }
}

/**
 * Request timeout: the rule's `timeouts.request`, else a BackendTrafficPolicy on the HTTPRoute,
 * else one on the Gateway of the listener. 0 or none = no timeout.
 */
export function timeoutFor(
  config: ConfigSnapshot,
  routeKey: string,
  ruleTimeoutMs: number | undefined,
  listenerKeys: readonly string[],
): number | undefined {
  const positive = (ms: number | undefined) => (ms !== undefined && ms > 0 ? ms : undefined);
  if (ruleTimeoutMs !== undefined) return positive(ruleTimeoutMs);
  const byRoute = config.policies.find(
    (p) => p.requestTimeoutMs !== undefined && p.targets.includes(`HTTPRoute/${routeKey}`),
  );
  if (byRoute) return positive(byRoute.requestTimeoutMs);
  const gatewayKeys = new Set(
    listenerKeys
      .map((k) => config.listeners.find((l: ListenerRecord) => l.key === k)?.gatewayKey)
      .filter((k): k is string => k !== undefined && k !== ""),
  );
  const byGateway = config.policies.find(
    (p) =>
      p.requestTimeoutMs !== undefined &&
      p.targets.some((t) => t.startsWith("Gateway/") && gatewayKeys.has(t.slice(8))),
  );
  return positive(byGateway?.requestTimeoutMs);
}
