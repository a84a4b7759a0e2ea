/**
 * `igw epp`: the core (core.ts) fed by the file source or the Kubernetes source, serving Envoy's ext_proc protocol for one
 * InferencePool (requests reach it already routed to that pool), gRPC health on its own port, and
 * `/metrics` plus the dashboard on the metrics port. Envoy retries over the fallback list itself,
 * so the core makes one attempt per decision. Used by `igw epp` and tests.
 */
import { FileSource } from "../config/file-source.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import { extProcOptions } from "../extproc/extproc-options.ts";
import { type ExtProcServer, startExtProcServer } from "../extproc/extproc-server.ts";
import { type HealthServer, startHealthServer } from "../extproc/health-server.ts";
import type { TlsSettings } from "../extproc/server-credentials.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import { createLogger } from "../observability/logger.ts";
import { type MetricsHttpServer, startMetricsHttpServer } from "../observability/metrics-http-server.ts";
import type { Director } from "../requestcontrol/director.ts";
import { startCore } from "./core.ts";
import { coreSettings, type FileCoreOptions, fileSource } from "./file-core.ts";
import type { KubeCoreOptions, KubeStatus } from "./kube-core.ts";

export interface EppOptions extends Omit<FileCoreOptions, "manifests"> {
  /** Manifest files or folders; ignored with `kube`. */
  readonly manifests?: readonly string[];
  /**
   * Read the configuration and the Pods from a Kubernetes API server instead, and write
   * InferenceModel/Objective status; with leader election only the leader reports SERVING.
   */
  readonly kube?: KubeCoreOptions;
  /** The pool served; may be left out when the configuration has one pool (in that namespace). */
  readonly poolName?: string;
  /** Namespace of the pool. Default "default" (with poolName), else any. */
  readonly poolNamespace?: string;
  /** Interface to bind. Default 0.0.0.0. */
  readonly host?: string;
  /** ext_proc port. Default 9002 (0 = any free port). */
  readonly grpcPort?: number;
  /** gRPC health port. Default 9003. */
  readonly grpcHealthPort?: number;
  /** `/metrics` and `/dashboard` port. Default 9090. */
  readonly metricsPort?: number;
  /** TLS of the ext_proc port (plaintext by default). */
  readonly tls?: TlsSettings;
  /** Header (and `envoy.lb` key) naming the endpoint. Default `x-gateway-destination-endpoint`. */
  readonly destinationHeader?: string;
  /** Max request body in bytes. Default 16 MiB. */
  readonly bodyLimit?: number;
}

export interface RunningEpp {
  /** `namespace/name` of the pool served. */
  readonly poolKey: string;
  readonly grpcPort: number;
  readonly healthPort: number;
  /** `http://host:port` of the metrics port. */
  readonly metricsUrl: string;
  readonly datastore: Datastore;
  readonly director: Director;
  readonly metrics: GatewayMetrics;
  /** Ext_proc streams open now (one per request Envoy is processing). */
  readonly openStreams: number;
  /** Rereads manifests and endpoints now; false (the running config kept) when invalid, or with `kube`. */
  reload(): boolean;
  /** Reports NOT_SERVING on the health port, then closes every server and the core. */
  close(): Promise<void>;
}

/** Starts the endpoint picker; throws ConfigError, PoolChoiceError (no such pool) or listen()'s error. */
export async function startEpp(options: EppOptions): Promise<RunningEpp> {
  const logger = options.logger ?? createLogger();
  // The listeners in the files do not matter here: Envoy's are the data plane's.
  // Loaded only with --kube: client-node is hundreds of modules a file-fed picker never needs.
  const kube = options.kube ? await import("./kube-core.ts") : undefined;
  const kubeSrc = kube && options.kube ? kube.kubeSource(options.kube, 8081, logger) : undefined;
  const source = kubeSrc ?? fileSource({ ...options, manifests: options.manifests ?? [] }, 8081);
  let poolKey = "";
  const core = await startCore({
    source,
    logger,
    // Envoy walks the fallback list (its retry policy); what reaches igw is the final response.
    maxAttempts: 1,
    ...coreSettings(options),
    onReloaded: (config) => {
      if (!config.pools.has(poolKey))
        logger.error(
          { pool: poolKey },
          `InferencePool ${poolKey} is no longer in the configuration: its requests are answered 503`,
        );
    },
  });
  const { datastore, director, metrics } = core;
  const host = options.host ?? "0.0.0.0";
  let extProc: ExtProcServer | undefined;
  let health: HealthServer | undefined;
  let metricsServer: MetricsHttpServer | undefined;
  let kubeStatus: KubeStatus | undefined;
  const closeAll = async (): Promise<void> => {
    health?.setServing(false);
    await kubeStatus?.close();
    await Promise.all([extProc?.close(), health?.close(), metricsServer?.close()]);
    await core.close();
  };
  try {
    poolKey = choosePool(datastore.config, options.poolName, options.poolNamespace);
    extProc = await bindGrpc("--grpc-port", host, options.grpcPort ?? 9002, (port) =>
      startExtProcServer({
        host,
        port,
        begin: (inbound, subset) =>
          director.begin(inbound, { kind: "pool", poolKey, ...(subset ? { subset } : {}) }),
        options: extProcOptions({
          ...(options.destinationHeader !== undefined
            ? { destinationHeader: options.destinationHeader }
            : {}),
          ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
        }),
        ...(options.tls ? { tls: options.tls } : {}),
        logger,
      }),
    );
    health = await bindGrpc("--grpc-health-port", host, options.grpcHealthPort ?? 9003, (port) =>
      startHealthServer(host, port),
    );
    metricsServer = await startMetricsHttpServer(
      host,
      options.metricsPort ?? 9090,
      metrics.registry,
      core.dashboard,
    ).catch((e: unknown) => {
      throw Object.assign(e as Error, { flag: "--metrics-port" });
    });
  } catch (e) {
    await closeAll();
    throw e;
  }
  const ext = extProc;
  const ready = health;
  // Upstream's active-passive model: a follower reports NOT_SERVING (so Envoy sends it nothing).
  if (kube && kubeSrc && options.kube)
    kubeStatus = kube.startKubeStatus(kubeSrc, options.kube, logger, {
      gatewayStatus: false,
      onLeader: (leading) => ready.setServing(leading),
    });
  logger.info(
    {
      pool: poolKey,
      grpcPort: ext.port,
      healthPort: health.port,
      metrics: metricsServer.url,
      endpoints: datastore.endpoints().length,
    },
    "endpoint picker started",
  );
  return {
    poolKey,
    grpcPort: ext.port,
    healthPort: health.port,
    metricsUrl: metricsServer.url,
    datastore,
    director,
    metrics,
    get openStreams() {
      return ext.openStreams;
    },
    reload: () => source instanceof FileSource && source.reload(),
    close: closeAll,
  };
}

/**
 * The pool's `namespace/name`: the one named, else the only pool (in `namespace` when given).
 * Throws a PoolChoiceError naming the pools there are.
 */
export function choosePool(config: ConfigSnapshot, name?: string, namespace?: string): string {
  const keys = [...config.pools.keys()];
  const list = keys.length > 0 ? keys.join(", ") : "none";
  if (name !== undefined) {
    const key = `${namespace ?? "default"}/${name}`;
    if (config.pools.has(key)) return key;
    throw new PoolChoiceError(
      `--pool-name ${name}: no InferencePool ${key} in the configuration (pools: ${list})`,
    );
  }
  const inNamespace = namespace === undefined ? keys : keys.filter((k) => k.startsWith(`${namespace}/`));
  if (inNamespace.length === 1) return inNamespace[0]!;
  const where = namespace === undefined ? "the configuration" : `namespace ${namespace}`;
  throw new PoolChoiceError(
    inNamespace.length === 0
      ? `${where} has no InferencePool (pools: ${list})`
      : `${where} has ${inNamespace.length} InferencePools (${inNamespace.join(", ")}): choose one with --pool-name and --pool-namespace`,
  );
}

/** The flags name no pool of the configuration (the message says which pools there are). */
export class PoolChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoolChoiceError";
  }
}

/** Runs a grpc-js bind, turning its "No address added" error into listen()'s, naming the port's flag. */
async function bindGrpc<T>(flag: string, host: string, port: number, bind: (port: number) => Promise<T>) {
  try {
    return await bind(port);
  } catch (e) {
    const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec((e as Error).message)?.[1];
    if (code === undefined) throw e;
    throw Object.assign(new Error(`listen ${code} ${host}:${port}`), {
      syscall: "listen",
      code,
      address: host,
      port,
      flag,
    });
  }
}
