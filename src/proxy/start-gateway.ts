/**
 * Starts the gateway in-process: loads the manifests (and endpoints file) through the file source,
 * builds the datastore and director, listens on the Gateway listeners' ports (or `port`), checks the
 * configuration against the servers, and applies the source's updates. Used by `igw serve` and tests.
 */
import type { AddressInfo } from "node:net";
import { ConfigError } from "../config/config-error.ts";
import type { SourceUpdate } from "../config/config-source.ts";
import { FileSource } from "../config/file-source.ts";
import { ServedModelsCheck } from "../config/served-models-check.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import { Datastore } from "../datastore/datastore.ts";
import { MetricsCollector } from "../modelserver/metrics-collector.ts";
import { GatewayMetrics } from "../observability/gateway-metrics.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { subscribeRequestLog } from "../observability/request-log.ts";
import { SchedulerMetrics } from "../observability/scheduler-metrics.ts";
import { Director } from "../requestcontrol/director.ts";
import { createGatewayServer } from "./gateway-server.ts";
import type { Http1Server } from "./http1/server.ts";
import { UpstreamPools } from "./upstream-pools.ts";

export interface GatewayOptions {
  /** Manifest files or folders (multi-document YAML). */
  readonly manifests: readonly string[];
  /** Standalone endpoints file (`endpoints: [{address, labels}]`). */
  readonly endpointsFile?: string;
  /** Listen here instead of the Gateway listeners' ports (0 = any free port). */
  readonly port?: number;
  /** Interface to bind. Default 0.0.0.0. */
  readonly host?: string;
  /** Max request body in bytes. Default 16 MiB. */
  readonly bodyLimit?: number;
  /** Endpoints tried per request, first included. Default 3. */
  readonly maxAttempts?: number;
  /** Poll interval for file changes, ms; 0 disables watching. Default 1000. */
  readonly watchIntervalMs?: number;
  /** Recheck `/v1/models` of the endpoints this often, ms; 0 = only on start and changes. Default 30000. */
  readonly checkIntervalMs?: number;
  readonly logger?: Logger;
  /** Model-server metrics scrape interval per endpoint, ms. Default 50. */
  readonly scrapeIntervalMs?: number;
  /** Model-server metrics scrape timeout, ms. Default 1000. */
  readonly scrapeTimeoutMs?: number;
  /** Send each scheduling decision's explanation in the `x-gateway-scheduling-decision` response header. */
  readonly explainDecisions?: boolean;
}

export interface RunningGateway {
  /** `http://127.0.0.1:<port>` of the first listener. */
  readonly url: string;
  /** One URL per port served. */
  readonly urls: readonly string[];
  readonly datastore: Datastore;
  readonly director: Director;
  /** The gateway's metrics (its registry, and the flow controllers the dashboard reads). */
  readonly metrics: GatewayMetrics;
  /** Rereads manifests and endpoints now; resolves false (and keeps the running config) when invalid. */
  reload(): boolean;
  /** Resolves after the next served-models check. */
  checkServedModels(): Promise<void>;
  close(): Promise<void>;
}

const IMPLICIT_PORT = 8081;
/** Default max request body: 16 MiB. */
const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Starts serving; throws ConfigError when the initial configuration is invalid. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const source = new FileSource({
    manifests: options.manifests,
    ...(options.endpointsFile !== undefined ? { endpointsFile: options.endpointsFile } : {}),
    defaultPort: options.port ?? IMPLICIT_PORT,
    ...(options.watchIntervalMs !== undefined ? { watchIntervalMs: options.watchIntervalMs } : {}),
  });
  const { config: initial, endpoints } = await source.load();
  const reported = new Set<string>();
  report(initial, logger, reported);

  const datastore = new Datastore(initial);
  datastore.apply(initial, endpoints);
  const metrics = new GatewayMetrics(datastore);
  const schedulerMetrics = new SchedulerMetrics(metrics.registry);
  const director = new Director(datastore, {
    flowControlMetrics: metrics.flowControl,
    schedulerMetrics,
    // Explanations are built for the header, or for the debug log.
    explainDecisions: logger.isLevelEnabled("debug"),
    explainHeader: options.explainDecisions === true,
    maxAttempts: options.maxAttempts ?? 3,
    logger,
  });
  metrics.subscribe(director.hooks);
  subscribeRequestLog(director.hooks, logger);
  const collector = new MetricsCollector(datastore, {
    logger,
    ...(options.scrapeIntervalMs !== undefined ? { intervalMs: options.scrapeIntervalMs } : {}),
    ...(options.scrapeTimeoutMs !== undefined ? { timeoutMs: options.scrapeTimeoutMs } : {}),
    onEndpointRemoved: (id) => schedulerMetrics.removeEndpoint(id),
    onScraped: () => director.metricsRefreshed(),
  });
  await collector.start();
  const pools = new UpstreamPools(datastore);
  const check = new ServedModelsCheck(datastore, logger);
  const deps = {
    director,
    datastore,
    pools,
    metrics,
    logger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
  };

  // One server per listener port, or one on the override port serving every listener.
  const host = options.host ?? "0.0.0.0";
  const ports =
    options.port !== undefined ? [options.port] : [...new Set(initial.listeners.map((l) => l.port))];
  const servers: Http1Server[] = [];
  const urls: string[] = [];
  for (const port of ports) {
    const keysFor = memoByConfig(datastore, (config) =>
      config.listeners.filter((l) => options.port !== undefined || l.port === port).map((l) => l.key),
    );
    const gatewayServer = createGatewayServer(deps, keysFor);
    const { server } = gatewayServer;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    servers.push(gatewayServer);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  const listeningPorts = new Set(ports);
  logger.info(
    { urls, pools: [...initial.pools.keys()], endpoints: datastore.endpoints().length },
    "gateway started",
  );

  const onUpdate = ({ config, endpoints: specs }: SourceUpdate): void => {
    report(config, logger, reported);
    if (options.port === undefined) {
      const missing = config.listeners.filter((l) => !listeningPorts.has(l.port));
      if (missing.length > 0)
        logger.warn(
          { listeners: missing.map((l) => l.key) },
          "listener port changes take effect after a restart",
        );
    }
    datastore.apply(config, specs);
    logger.info(
      { pools: [...config.pools.keys()], endpoints: datastore.endpoints().length },
      "configuration reloaded",
    );
    void check.run();
  };
  const onRejected = (e: Error): void => {
    if (e instanceof ConfigError)
      logger.error(
        { issues: e.issues },
        `configuration change rejected, keeping the running configuration: ${e.message}`,
      );
    else
      logger.error({ err: e }, "configuration change could not be read; keeping the running configuration");
  };
  source.watch({ onUpdate, onRejected });
  const checkTimer =
    options.checkIntervalMs === 0
      ? undefined
      : setInterval(() => void check.run(), options.checkIntervalMs ?? 30_000);
  checkTimer?.unref();
  void check.run();

  return {
    url: urls[0]!,
    urls,
    datastore,
    director,
    metrics,
    reload: () => source.reload(),
    checkServedModels: () => check.run(),
    async close() {
      await source.close();
      if (checkTimer) clearInterval(checkTimer);
      await Promise.all(servers.map((s) => s.close()));
      director.close();
      await collector.close();
      pools.close();
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

/** Caches `f(config)` until the datastore's configuration is swapped. */
function memoByConfig<T>(datastore: Datastore, f: (config: ConfigSnapshot) => T): () => T {
  let config: ConfigSnapshot | undefined;
  let value: T | undefined;
  return () => {
    if (config !== datastore.config) {
      config = datastore.config;
      value = f(config);
    }
    return value as T;
  };
}
