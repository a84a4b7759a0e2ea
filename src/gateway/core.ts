/**
 * The composition root shared by every adapter: a ConfigSource feeds the datastore; the director
 * runs the stages; metrics and logs subscribe to its hooks; a scraper per endpoint reads load;
 * the served-models check compares the configuration with what the servers serve. Adapters
 * (the HTTP proxy in start-gateway.ts, the ext_proc endpoint picker) start a core and move bytes.
 */
import { ConfigError, formatIssue } from "../config/config-error.ts";
import type { ConfigSource, SourceUpdate } from "../config/config-source.ts";
import { ServedModelsCheck } from "../config/served-models-check.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import { Datastore } from "../datastore/datastore.ts";
import type { EndpointSpec } from "../datastore/endpoint-spec.ts";
import { poolQueues } from "../flowcontrol/pool-admitter-factory.ts";
import { MetricsCollector } from "../modelserver/metrics-collector.ts";
import { subscribeAccessLog } from "../observability/access-log.ts";
import { createDashboard, type Dashboard } from "../observability/dashboard/gateway-dashboard.ts";
import { GatewayMetrics } from "../observability/gateway-metrics.ts";
import type { Logger } from "../observability/logger.ts";
import { subscribeRequestLog } from "../observability/request-log.ts";
import { SchedulerMetrics } from "../observability/scheduler-metrics.ts";
import { Director } from "../requestcontrol/director.ts";
import { failurePolicyFor } from "../requestcontrol/failure-policy.ts";

export interface CoreOptions {
  readonly source: ConfigSource;
  readonly logger: Logger;
  /** Endpoints tried per request, first included. Default 3 (1 where the data plane retries itself). */
  readonly maxAttempts?: number;
  /** Send each decision's explanation to the client (`x-gateway-scheduling-decision`). */
  readonly explainHeader?: boolean;
  /** Model-server metrics scrape interval per endpoint, ms. Default 50. */
  readonly scrapeIntervalMs?: number;
  /** Model-server metrics scrape timeout, ms. Default 1000. */
  readonly scrapeTimeoutMs?: number;
  /** Recheck `/v1/models` of the endpoints this often, ms; 0 = only on start and changes. Default 30000. */
  readonly checkIntervalMs?: number;
  /** Told of every configuration applied after the first (e.g. to warn about listener changes). */
  readonly onReloaded?: (config: ConfigSnapshot) => void;
  /** Told of every change the source rejected (the running configuration stays). */
  readonly onRejected?: (error: Error) => void;
  /** Build the live dashboard (idle until a page connects; the adapter mounts it). Default true. */
  readonly dashboard?: boolean;
  /** Write one access-log line per request here (`--access-log`). */
  readonly accessLog?: Logger;
}

/** A running core. */
export interface GatewayCore {
  readonly datastore: Datastore;
  readonly director: Director;
  /** The gateway's metrics (its registry, and the flow controllers the dashboard reads). */
  readonly metrics: GatewayMetrics;
  /** The live page, for the adapter to mount (`handle(req, res)`); undefined with `dashboard: false`. */
  readonly dashboard: Dashboard | undefined;
  /** Resolves after the next served-models check. */
  checkServedModels(): Promise<void>;
  /** Stops the source, the scrapers and the admitters. */
  close(): Promise<void>;
}

/** Loads the first configuration (rejects with ConfigError when invalid) and starts the core. */
export async function startCore(options: CoreOptions): Promise<GatewayCore> {
  const { logger, source } = options;
  const { config: initial, endpoints } = await source.load();
  const reported = new Set<string>();
  report(initial, logger, reported);

  const datastore = new Datastore(initial);
  datastore.apply(initial, endpoints);
  warnEmptyPools(datastore, endpoints, logger);
  const metrics = new GatewayMetrics(datastore);
  const schedulerMetrics = new SchedulerMetrics(metrics.registry);
  const director = new Director(datastore, {
    flowControlMetrics: metrics.flowControl,
    schedulerMetrics,
    // Explanations are built for the header, or for the debug log.
    explainDecisions: logger.isLevelEnabled("debug"),
    explainHeader: options.explainHeader === true,
    maxAttempts: options.maxAttempts ?? 3,
    logger,
  });
  metrics.subscribe(director.hooks);
  metrics.subscribeOutliers(director.outliers, datastore);
  subscribeRequestLog(director.hooks, logger);
  // Observers of the director: the dashboard (idle until a page connects) and the access log.
  const dashboard =
    options.dashboard === false
      ? undefined
      : createDashboard({ datastore, director, flowControl: metrics.flowControl });
  if (options.accessLog) subscribeAccessLog(director.hooks, options.accessLog);
  const collector = new MetricsCollector(datastore, {
    logger,
    ...(options.scrapeIntervalMs !== undefined ? { intervalMs: options.scrapeIntervalMs } : {}),
    ...(options.scrapeTimeoutMs !== undefined ? { timeoutMs: options.scrapeTimeoutMs } : {}),
    onEndpointRemoved: (id) => schedulerMetrics.removeEndpoint(id),
    onScraped: () => director.metricsRefreshed(),
  });
  await collector.start();
  const check = new ServedModelsCheck(datastore, logger);

  source.watch({
    onUpdate: ({ config, endpoints: specs }: SourceUpdate): void => {
      report(config, logger, reported);
      options.onReloaded?.(config);
      datastore.apply(config, specs);
      warnEmptyPools(datastore, specs, logger);
      logger.info(
        { pools: [...config.pools.keys()], endpoints: datastore.endpoints().length },
        "configuration reloaded",
      );
      void check.run();
    },
    onRejected: (e: Error): void => {
      if (e instanceof ConfigError) {
        logger.error(
          { issues: e.issues },
          `configuration change rejected, keeping the running configuration: ${e.message}`,
        );
        dashboard?.reloadRejected(e.issues.map(formatIssue));
      } else {
        logger.error({ err: e }, "configuration change could not be read; keeping the running configuration");
        dashboard?.reloadRejected([`the change could not be read: ${e.message}`]);
      }
      options.onRejected?.(e);
    },
  });
  const checkTimer =
    options.checkIntervalMs === 0
      ? undefined
      : setInterval(() => void check.run(), options.checkIntervalMs ?? 30_000);
  checkTimer?.unref();
  void check.run();

  return {
    datastore,
    director,
    metrics,
    dashboard,
    checkServedModels: () => check.run(),
    async close() {
      dashboard?.close();
      await source.close();
      if (checkTimer) clearInterval(checkTimer);
      director.close();
      await collector.close();
    },
  };
}

/** Logs, once per object, the documents skipped and the non-fatal findings. */
function report(config: ConfigSnapshot, logger: Logger, reported: Set<string>): void {
  for (const d of config.ignored) {
    const key = `ignored|${d.apiVersion}|${d.kind}|${d.name}`;
    if (reported.has(key)) continue;
    reported.add(key);
    logger.info(
      { kind: d.kind, apiVersion: d.apiVersion, name: d.name, file: d.source.file, line: d.source.line },
      `${d.source.file}:${d.source.line}: ${d.kind} ${d.name} is not used by the standalone gateway (skipped)`,
    );
  }
  for (const w of config.warnings) {
    const key = `warning|${w}`;
    if (reported.has(key)) continue;
    reported.add(key);
    logger.warn(w);
  }
}

/**
 * Warns about every pool that selects no endpoint (at start-up and on every reload): its requests
 * get 503, after waiting for one up to the pool's no-endpoint TTL when the pool queues.
 */
function warnEmptyPools(datastore: Datastore, specs: readonly EndpointSpec[], logger: Logger): void {
  const config = datastore.config;
  for (const pool of config.pools.values()) {
    if (datastore.poolEndpoints(pool.key).length > 0) continue;
    const selector = Object.entries(pool.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const listed =
      specs.length === 0
        ? "no endpoints are configured (standalone: --endpoints FILE lists them)"
        : `none of the ${specs.length} endpoint${specs.length === 1 ? "" : "s"} listed carries its selector labels ${selector}`;
    const ttlMs = failurePolicyFor(pool, config.pickerConfigs).noEndpointTTLMs;
    const then = !poolQueues(pool, config.pickerConfigs)
      ? "get 503 (the pool does not queue)"
      : ttlMs > 0
        ? `wait up to ${ttlMs / 1000} s for one to join, then get 503`
        : "get 503 at once (noEndpointTTL 0)";
    logger.warn(
      { pool: pool.key, selector: pool.selector, endpointsListed: specs.length, noEndpointTTLMs: ttlMs },
      `InferencePool ${pool.key} selects no endpoint: ${listed}; its requests ${then}`,
    );
  }
}
