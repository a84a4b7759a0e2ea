/**
 * `igw serve`: the core (core.ts) fed by the file source (manifests and endpoints file) or the
 * Kubernetes source (`--kube`), with the HTTP proxy listening on the Gateway listeners' ports (or
 * `port`). Used by `igw serve`, `igw start` and tests.
 */
import type { AddressInfo } from "node:net";
import { FileSource } from "../config/file-source.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import { createLogger } from "../observability/logger.ts";
import { createGatewayServer } from "../proxy/gateway-server.ts";
import type { Http1Server } from "../proxy/http1/server.ts";
import { UpstreamPools } from "../proxy/upstream-pools.ts";
import type { Director } from "../requestcontrol/director.ts";
import { connectionBudget, openFileLimit } from "./connection-budget.ts";
import { startCore } from "./core.ts";
import { coreSettings, type FileCoreOptions, fileSource } from "./file-core.ts";
import type { KubeCoreOptions } from "./kube-core.ts";

export interface GatewayOptions extends Omit<FileCoreOptions, "manifests"> {
  /** Manifest files or folders (multi-document YAML); ignored with `kube`. */
  readonly manifests?: readonly string[];
  /**
   * Read the configuration and the endpoints (Pods) from a Kubernetes API server instead of
   * files, and write the status of what is served; `gatewayClass` serves only its Gateways.
   */
  readonly kube?: KubeCoreOptions;
  /** Listen here instead of the Gateway listeners' ports (0 = any free port). */
  readonly port?: number;
  /** Interface to bind. Default 0.0.0.0. */
  readonly host?: string;
  /** Max request body in bytes. Default 16 MiB. */
  readonly bodyLimit?: number;
  /** From a request's first byte to the end of its body, ms (408 beyond). Default 30,000. */
  readonly bodyTimeoutMs?: number;
  /** Open client connections per listener port at most (more are refused and logged). Default 16,384. */
  readonly maxConnections?: number;
  /** Endpoints tried per request, first included. Default 3. */
  readonly maxAttempts?: number;
  /** Send each scheduling decision's explanation in the `x-gateway-scheduling-decision` response header. */
  readonly explainDecisions?: boolean;
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
  /** Rereads manifests and endpoints now; false (and keeps the running config) when invalid, or with `kube`. */
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
  const defaultPort = options.port ?? IMPLICIT_PORT;
  // Loaded only with --kube: client-node is hundreds of modules a file-fed gateway never needs.
  const kube = options.kube ? await import("./kube-core.ts") : undefined;
  const kubeSrc = kube && options.kube ? kube.kubeSource(options.kube, defaultPort, logger) : undefined;
  const source = kubeSrc ?? fileSource({ ...options, manifests: options.manifests ?? [] }, defaultPort);
  const listeningPorts = new Set<number>();
  const core = await startCore({
    source,
    logger,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.explainDecisions ? { explainHeader: true } : {}),
    ...coreSettings(options),
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
    ...(options.bodyTimeoutMs !== undefined ? { requestTimeoutMs: options.bodyTimeoutMs } : {}),
    ...(core.dashboard ? { dashboard: core.dashboard.handle } : {}),
  };

  // One server per listener port, or one on the override port serving every listener.
  const host = options.host ?? "0.0.0.0";
  const initial = datastore.config;
  const ports =
    options.port !== undefined ? [options.port] : [...new Set(initial.listeners.map((l) => l.port))];
  const budget = connectionBudget(options.maxConnections, ports.length, openFileLimit());
  if (budget.limitedBy !== undefined) {
    const fields = { maxConnections: budget.maxConnections };
    // Asked for explicitly: a warning; the default lowered to fit: worth knowing only.
    if (options.maxConnections !== undefined) logger.warn(fields, budget.limitedBy);
    else logger.info(fields, budget.limitedBy);
  }
  const servers: Http1Server[] = [];
  const urls: string[] = [];
  const listening: string[] = [];
  try {
    for (const port of ports) {
      const keysFor = memoByConfig(datastore, (config) =>
        config.listeners.filter((l) => options.port !== undefined || l.port === port).map((l) => l.key),
      );
      const gatewayServer = createGatewayServer({ ...deps, maxConnections: budget.maxConnections }, keysFor);
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
  // Status says "Programmed" only once the listeners are up.
  const kubeStatus =
    kube && kubeSrc && options.kube
      ? kube.startKubeStatus(kubeSrc, options.kube, logger, { gatewayStatus: true })
      : undefined;

  return {
    url: urls[0]!,
    urls,
    listening,
    datastore,
    director,
    metrics,
    reload: () => source instanceof FileSource && source.reload(),
    checkServedModels: () => core.checkServedModels(),
    async close() {
      await kubeStatus?.close();
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
