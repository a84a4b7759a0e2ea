/**
 * The director: the core every adapter drives. `begin()` opens one Exchange per request (see
 * exchange.ts for the stages and the contract); the director keeps what exchanges share — the
 * route table of the current configuration, the per-pool runtimes (scheduler, admitter) and the
 * lifecycle hooks that metrics, logs and the dashboard subscribe to.
 */
import type { Logger } from "pino";
import type { ListenerRecord } from "../api/gateway.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import { clip, GatewayError } from "../errors.ts";
import type { FlowControlMetrics } from "../flowcontrol/metrics.ts";
import type { SchedulerMetrics } from "../observability/scheduler-metrics.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";
import type { ExchangeEntry, InboundRequest } from "./decision.ts";
import { Exchange } from "./exchange.ts";
import type { ExchangeContext } from "./exchange-context.ts";
import { isInferencePath } from "./inference-paths.ts";
import { LifecycleHooks } from "./lifecycle-hooks.ts";
import { OutlierDetector, type OutlierEvent } from "./outlier-detector.ts";
import type { ParsedRequest } from "./parse-request.ts";
import { PoolRuntimes } from "./pool-runtimes.ts";
import { pickBackend, type RouteMatch, RouteTable } from "./route-table.ts";

export interface DirectorOptions {
  readonly random?: () => number;
  /** Flow-control families (queue sizes, queue time), passed to every pool's admitter. */
  readonly flowControlMetrics?: FlowControlMetrics;
  /** Scheduler metrics (decision and plugin latency, prefix index). */
  readonly schedulerMetrics?: SchedulerMetrics;
  /** Build a DecisionExplanation for every decision (debug log, the explanation header); else only while explainWhile() asks. */
  readonly explainDecisions?: boolean;
  /** Also send the explanation to the client in `x-gateway-scheduling-decision`. */
  readonly explainHeader?: boolean;
  /** Endpoints tried per request, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Endpoint reachability changes (back-off started, answers again) are logged here. */
  readonly logger?: Logger;
  /** Monotonic clock in ms for exchange times. Default performance.now. */
  readonly now?: () => number;
  /** Clock and timers of outlier detection (ejection times, sweeps) and the no-endpoint TTL. Default Node's. */
  readonly timers?: Timers;
}

export class Director {
  /** The lifecycle hooks of every exchange this director begins. */
  readonly hooks: LifecycleHooks;
  /** Ejects endpoints that keep failing (per pool settings); ejections and returns are logged. */
  readonly outliers: OutlierDetector;
  readonly #datastore: Datastore;
  readonly #runtimes: PoolRuntimes;
  readonly #context: ExchangeContext;
  #routes: RouteTable;
  #unsubscribe: () => void;
  #modelNames: { config: ConfigSnapshot; names: ReadonlySet<string> } | undefined;
  /** Who wants explanations now (explainWhile); empty = none built unless the options say always. */
  #explainWanted: (() => boolean)[] = [];
  readonly #timeouts = new WeakMap<object, Map<readonly string[], number | undefined>>();

  constructor(datastore: Datastore, options: DirectorOptions = {}) {
    this.#datastore = datastore;
    const logger = options.logger;
    this.hooks = new LifecycleHooks((hook, e) =>
      logger?.error({ err: e, hook }, `a ${hook} hook subscriber threw and was removed`),
    );
    const sm = options.schedulerMetrics;
    this.#runtimes = new PoolRuntimes(datastore, {
      ...(options.flowControlMetrics && { flowControlMetrics: options.flowControlMetrics }),
      schedulerDeps: {
        explain: options.explainDecisions || options.explainHeader ? true : this.#wantsExplanation,
        ...(sm
          ? { observe: sm.observePlugin, onPlugins: (pool, plugins) => sm.setPoolPlugins(pool, plugins) }
          : {}),
      },
    });
    const runtimes = this.#runtimes;
    this.outliers = new OutlierDetector(
      datastore,
      (poolKey) => runtimes.get(poolKey)?.failurePolicy.outlier,
      options.timers,
    );

    if (logger) this.outliers.onEvent((e) => logOutlierEvent(logger, e));
    this.#routes = new RouteTable(datastore.config.routes);
    this.#unsubscribe = datastore.onConfigChanged((config) => {
      this.#routes = new RouteTable(config.routes);
      this.#runtimes.update(config);
      sm?.retainPools(new Set(config.pools.keys()));
    });
    const random = options.random ?? Math.random;
    this.#context = {
      datastore,
      hooks: this.hooks,
      maxAttempts: Math.max(1, options.maxAttempts ?? 3),
      explainHeader: options.explainHeader === true,
      random,
      logger,
      outliers: this.outliers,
      timers: options.timers ?? REAL_TIMERS,
      now: options.now ?? (() => performance.now()),
      route: (config, parsed, listenerKeys) => this.#route(config, parsed, listenerKeys, random),
      runtime: (poolKey) => runtimes.get(poolKey),
      servesModel: (poolKey, model) => {
        const served = datastore.servedModels(poolKey);
        return served !== undefined && (served.models.has(model) || served.adapters.has(model));
      },
      observeDecision: sm ? (seconds, picked) => sm.observeDecision(seconds, picked) : () => {},
    };
  }

  /**
   * Opens the exchange of one request (the `received` hook fires). `entry`: routed by the
   * listeners it arrived on (proxy), or already at a pool (ext_proc).
   */
  begin(inbound: InboundRequest, entry: ExchangeEntry): Exchange {
    return new Exchange(this.#context, inbound, entry);
  }

  /**
   * Has decisions explained while `wanted()` returns true (asked once per decision, so it must be
   * cheap), on top of `explainDecisions`; returns the release. The dashboard holds one while a page
   * is open. Without any, deciding whether to explain costs one empty-array check.
   */
  explainWhile(wanted: () => boolean): () => void {
    this.#explainWanted = [...this.#explainWanted, wanted];
    return () => {
      this.#explainWanted = this.#explainWanted.filter((w) => w !== wanted);
    };
  }

  readonly #wantsExplanation = (): boolean => {
    const wanted = this.#explainWanted;
    for (let i = 0; i < wanted.length; i++) if (wanted[i]!()) return true;
    return false;
  };

  /**
   * Whether `path` may be proxied from these listeners: an inference API (inference-paths.ts),
   * or a path an HTTPRoute names by a path match. Anything else is answered 404 by the gateway,
   * before its body is read.
   */
  proxiesPath(listenerKeys: readonly string[], path: string): boolean {
    return isInferencePath(path) || this.#routes.namesPath(listenerKeys, path);
  }

  /** Endpoint metrics were refreshed (the scraper calls this): admitters dispatch what now fits. */
  metricsRefreshed(): void {
    this.#runtimes.notifyAll();
  }

  #route(
    config: ConfigSnapshot,
    parsed: ParsedRequest,
    listenerKeys: readonly string[],
    random: () => number,
  ): { poolKey: string; timeoutMs: number | undefined } {
    const match = this.#routes.match(listenerKeys, {
      method: parsed.method,
      path: parsed.path,
      ...(parsed.headers["host"] !== undefined ? { host: parsed.headers["host"] } : {}),
      headers: parsed.headers,
      query: () => new URLSearchParams(parsed.queryString),
    });
    if (match && !match.namesPath && !isInferencePath(parsed.path))
      // Only a route that names this path by a path match proxies a non-inference API.
      throw new GatewayError("noRoute", notProxiedMessage(parsed.path));
    if (!match) {
      if (!this.#knownModels().has(parsed.model) && this.#allPoolsHaveModels())
        throw new GatewayError("modelNotFound", `The model '${clip(parsed.model)}' does not exist`, {
          param: "model",
        });
      throw new GatewayError(
        "noRoute",
        `no route for ${parsed.method} ${clip(parsed.path)} with model '${clip(parsed.model)}'`,
        { param: "model" },
      );
    }
    const backend = pickBackend(match.rule.backends, random);
    if (!backend)
      throw new GatewayError("noEndpoint", `route ${match.route.key} has no backend with a weight above 0`);
    return {
      poolKey: backend.poolKey,
      timeoutMs: this.#timeout(config, match, listenerKeys),
    };
  }

  /**
   * timeoutFor(), memoized by the matched rule and the listener-key array (both objects live as
   * long as their configuration), so a request allocates nothing for it.
   */
  #timeout(config: ConfigSnapshot, match: RouteMatch, listenerKeys: readonly string[]): number | undefined {
    let byListeners = this.#timeouts.get(match.rule);
    if (!byListeners) {
      byListeners = new Map();
      this.#timeouts.set(match.rule, byListeners);
    }
    if (byListeners.has(listenerKeys)) return byListeners.get(listenerKeys);
    const ms = timeoutFor(config, match.route.key, match.rule.requestTimeoutMs, listenerKeys);
    if (byListeners.size < 64) byListeners.set(listenerKeys, ms);
    return ms;
  }

  /** Every InferenceModel name of the current configuration (404 messages). */
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

  /** Stops following configuration changes, sweeping for outliers, and closes admitters. */
  close(): void {
    this.#unsubscribe();
    this.outliers.close();

    this.#runtimes.close();
  }
}

/** The 404 message for a path that is neither an inference API nor named by a route. */
export function notProxiedMessage(path: string): string {
  return (
    `${clip(path)} is not proxied: only /v1/completions, /v1/chat/completions, /v1/embeddings and ` +
    "/v1/responses are, unless an HTTPRoute names the path in a path match"
  );
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

function logOutlierEvent(logger: Logger, e: OutlierEvent): void {
  if (e.kind === "ejected")
    logger.warn(
      {
        pool: e.poolKey,
        endpoint: e.endpoint,
        reason: e.reason,
        ejectionMs: e.durationMs,
        ejections: e.ejections,
      },
      `endpoint ${e.endpoint} ejected from InferencePool ${e.poolKey} for ${e.durationMs} ms (${e.reason.replaceAll("_", " ")}, ejection ${e.ejections})`,
    );
  else
    logger.info(
      { pool: e.poolKey, endpoint: e.endpoint },
      `endpoint ${e.endpoint} returns to InferencePool ${e.poolKey} after its ejection`,
    );
}
