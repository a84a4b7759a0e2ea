/**
 * `igw serve`: the core (core.ts) fed by the file source (manifests and endpoints file), with the
 * HTTP proxy listening on the Gateway listeners' ports (or `port`). Used by `igw serve`,
 * `igw start` and tests.
 */
import type { AddressInfo } from "node:net";
import { FileSource } from "../config/file-source.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { createGatewayServer } from "../proxy/gateway-server.ts";
import type { Http1Server } from "../proxy/http1/server.ts";
import { UpstreamPools } from "../proxy/upstream-pools.ts";
import type { Director } from "../requestcontrol/director.ts";
import { startCore } from "./core.ts";

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
  /** Serve the live page on `/dashboard` of every listener. Default true. */
  readonly dashboard?: boolean;
  /** Write one access-log line per request here (`--access-log`). */
  readonly accessLog?: Logger;
}

export interface RunningGateway {
  /** URL to reach the first listener from this machine (loopback when bound to all interfaces). */
  readonly url: string;
  /** One such URL per port served. */
  readonly urls: readonly string[];
  /** One URL per port served, with the address really bound (`http://0.0.0.0:8081` for all interfaces). */
  readonly listening: readonly string[];
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
  const listeningPorts = new Set<number>();
  const core = await startCore({
    source,
    logger,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.explainDecisions ? { explainHeader: true } : {}),
    ...(options.scrapeIntervalMs !== undefined ? { scrapeIntervalMs: options.scrapeIntervalMs } : {}),
    ...(options.scrapeTimeoutMs !== undefined ? { scrapeTimeoutMs: options.scrapeTimeoutMs } : {}),
    ...(options.checkIntervalMs !== undefined ? { checkIntervalMs: options.checkIntervalMs } : {}),
    ...(options.dashboard === false ? { dashboard: false } : {}),
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
    onReloaded: (config) => {
      if (options.port !== undefined) return;
      const missing = config.listeners.filter((l) => !listeningPorts.has(l.port));
      if (missing.length > 0)
        logger.warn(
          { listeners: missing.map((l) => l.key) },
          "listener port changes take effect after a restart",
        );
    },
  });
  const { datastore, director, metrics } = core;
  const pools = new UpstreamPools(datastore);
  const deps = {
    director,
    datastore,
    pools,
    metrics,
    logger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(core.dashboard ? { dashboard: core.dashboard.handle } : {}),
  };

  // One server per listener port, or one on the override port serving every listener.
  const host = options.host ?? "0.0.0.0";
  const initial = datastore.config;
  const ports =
    options.port !== undefined ? [options.port] : [...new Set(initial.listeners.map((l) => l.port))];
  const servers: Http1Server[] = [];
  const urls: string[] = [];
  const listening: string[] = [];
  try {
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
      listeningPorts.add(port);
      const bound = server.address() as AddressInfo;
      listening.push(`http://${hostForUrl(bound.address)}:${bound.port}`);
      urls.push(`http://${hostForUrl(reachableHost(bound.address))}:${bound.port}`);
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    await core.close();
    pools.close();
    throw e;
  }
  logger.info(
    { urls: listening, pools: [...initial.pools.keys()], endpoints: datastore.endpoints().length },
    "gateway started",
  );

  return {
    url: urls[0]!,
    urls,
    listening,
    datastore,
    director,
    metrics,
    reload: () => source.reload(),
    checkServedModels: () => core.checkServedModels(),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await core.close();
      pools.close();
    },
  };
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

/** The address as a URL host: IPv6 in brackets. */
function hostForUrl(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** Where to connect to a server bound to `address`: loopback for the unspecified addresses. */
function reachableHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "::1";
  return address;
}
