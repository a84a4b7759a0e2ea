/** `igw serve`: the gateway data plane in front of the configured pools. */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseDuration } from "../api/duration.ts";
import { type GatewayOptions, startGateway } from "../gateway/start-gateway.ts";
import { KubeConfigError, loadKubeConfig } from "../kube/load-kube-config.ts";
import { createLogger } from "../observability/logger.ts";
import { failStartup, UsageError } from "./cli-errors.ts";
import { coreFlags, integer } from "./core-flags.ts";

/** A Go-style duration ("15s", "1m30s") of 1 s to 1 h, in ms. */
function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000 || ms > 3_600_000)
    throw new InvalidArgumentError("expected a duration of 1s to 1h, such as 15s");
  return ms;
}

/** The configuration source the flags name: files (`-f`) or Kubernetes (`--kube`); exactly one. */
function sourceOptions(opts: {
  file?: string[];
  kube?: true;
  kubeconfig?: string;
  namespace?: string;
  gatewayClass?: string;
  leaderElect?: true;
  leaderElectNamespace?: string;
  leaderElectLeaseName: string;
  leaderElectLeaseDuration: number;
  endpoints?: string;
}): Pick<GatewayOptions, "manifests" | "kube"> {
  if (opts.kube) {
    if (opts.file !== undefined) throw new UsageError("-f and --kube are exclusive: choose one source");
    if (opts.endpoints !== undefined)
      throw new UsageError("--endpoints is for -f: with --kube the endpoints are the pools' Pods");
    try {
      const kubeConfig = loadKubeConfig(opts.kubeconfig);
      return {
        kube: {
          kubeConfig,
          ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
          ...(opts.gatewayClass !== undefined ? { gatewayClass: opts.gatewayClass } : {}),
          ...(opts.leaderElect
            ? {
                leaderElection: {
                  namespace: opts.leaderElectNamespace ?? process.env["POD_NAMESPACE"] ?? "default",
                  name: opts.leaderElectLeaseName,
                  leaseDurationMs: opts.leaderElectLeaseDuration,
                },
              }
            : {}),
        },
      };
    } catch (e) {
      throw e instanceof KubeConfigError ? new UsageError(e.message) : e;
    }
  }
  if (
    opts.kubeconfig !== undefined ||
    opts.namespace !== undefined ||
    opts.gatewayClass !== undefined ||
    opts.leaderElect
  )
    throw new UsageError("--kubeconfig, --namespace, --gateway-class and --leader-elect need --kube");
  if (opts.file === undefined)
    throw new UsageError(
      "no configuration: pass -f FILE|FOLDER (manifests) or --kube (a Kubernetes API server)",
    );
  return { manifests: opts.file };
}

/** Line printed on stdout per port once the gateway accepts requests (test helpers parse it). */
export const LISTENING_LINE_PREFIX = "igw serve: listening on ";

export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "run the gateway: read InferencePool/InferenceModel/HTTPRoute/... manifests (files, or --kube) and proxy OpenAI requests",
    )
    .addOption(coreFlags.manifestsOrKube())
    .option("--kube", "read the configuration and the endpoints (Pods) from a Kubernetes API server")
    .option("--kubeconfig <file>", "with --kube: kubeconfig file (default: KUBECONFIG, else in-cluster)")
    .option("--namespace <ns>", "with --kube: watch only this namespace (default: all that RBAC allows)")
    .option(
      "--gateway-class <name>",
      "with --kube: serve (and write the status of) only the Gateways of this GatewayClass",
    )
    .option(
      "--leader-elect",
      "with --kube: one replica writes status, elected with a coordination.k8s.io Lease",
    )
    .option("--leader-elect-namespace <ns>", "namespace of the Lease (default: POD_NAMESPACE, else default)")
    .option("--leader-elect-lease-name <name>", "name of the Lease", "inference-gateway")
    .addOption(
      new Option(
        "--leader-elect-lease-duration <duration>",
        "how long a Lease lasts unrenewed: a follower takes over this long after the leader stops",
      )
        .argParser(duration)
        .default(15_000, "15s"),
    )
    .addOption(coreFlags.endpoints())
    .option(
      "--port <n>",
      "listen on this port instead of the Gateway listener ports (0 = any free port)",
      integer(0, 65535),
    )
    .option("--host <address>", "interface to bind", "0.0.0.0")
    .addOption(coreFlags.bodyLimit())
    .option(
      "--body-timeout <ms>",
      "time from a request's first byte to the end of its body (408 beyond)",
      integer(1, 3_600_000),
      30_000,
    )
    .option(
      "--max-connections <n>",
      "open client connections per port at most (more are refused and logged)",
      integer(1, 1_000_000),
      16_384,
    )
    .option(
      "--max-attempts <n>",
      "endpoints tried per request when connections fail or answer 5xx",
      integer(1, 10),
      3,
    )
    .addOption(coreFlags.watchInterval())
    .addOption(coreFlags.scrapeInterval())
    .addOption(coreFlags.scrapeTimeout())
    .option("--explain-decisions", "answer with x-gateway-scheduling-decision: each scored endpoint's scores")
    .addOption(coreFlags.accessLog())
    .option("--no-dashboard", "do not serve the live page on /dashboard")
    .addOption(coreFlags.logLevel())
    .addOption(coreFlags.logFormat())
    .action(async (opts) => {
      const logger = createLogger(opts.logLevel, opts.logFormat);
      // Its own logger at info, whatever --log-level says: it was asked for.
      const accessLog = opts.accessLog ? createLogger("info", opts.logFormat) : undefined;
      try {
        const gw = await startGateway({
          ...sourceOptions(opts),
          ...(opts.endpoints !== undefined ? { endpointsFile: opts.endpoints } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          host: opts.host,
          bodyLimit: opts.bodyLimit,
          bodyTimeoutMs: opts.bodyTimeout,
          maxConnections: opts.maxConnections,
          maxAttempts: opts.maxAttempts,
          watchIntervalMs: opts.watchInterval,
          scrapeIntervalMs: opts.scrapeInterval,
          scrapeTimeoutMs: opts.scrapeTimeout,
          ...(opts.explainDecisions ? { explainDecisions: true } : {}),
          dashboard: opts.dashboard,
          ...(accessLog ? { accessLog } : {}),
          logger,
        });
        for (const url of gw.urls) process.stdout.write(`${LISTENING_LINE_PREFIX}${url}\n`);
        const stop = (): void => {
          gw.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        // From here on stderr belongs to the logger: one format per stream (docs/observability.md).
        // A ConfigError or a port in use exits 2, anything else 1.
        failStartup(logger, e, "igw serve could not start");
      }
    });
}
