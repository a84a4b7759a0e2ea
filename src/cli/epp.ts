/** `igw epp`: the endpoint picker behind Envoy (ext_proc), with the Inference Extension EPP's flags. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { setLogger } from "@grpc/grpc-js";
import { DEFAULT_DESTINATION_HEADER } from "../extproc/extproc-options.ts";
import { PoolChoiceError, startEpp } from "../gateway/start-epp.ts";
import { createLogger } from "../observability/logger.ts";
import { failStartup, UsageError } from "./cli-errors.ts";
import { coreFlags, integer } from "./core-flags.ts";
import { kubeFlags, sourceOptions } from "./kube-flags.ts";

/** An HTTP header name (RFC 9110 token), lower-cased. */
function headerName(value: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value))
    throw new InvalidArgumentError("expected an HTTP header name, e.g. x-llm-d-gateway-destination-endpoint");
  return value.toLowerCase();
}

/** Line printed on stdout once every port accepts (test helpers parse it). */
export const EPP_LISTENING_PREFIX = "igw epp: listening";

/** `--cert-path DIR` must hold tls.crt and tls.key (a Kubernetes TLS Secret mounted as a folder). */
function checkCertPath(dir: string): void {
  const missing = ["tls.crt", "tls.key"].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0)
    throw new UsageError(
      `--cert-path ${dir}: ${missing.join(" and ")} not found (expected tls.crt and tls.key)`,
    );
}

export function eppCommand(): Command {
  return new Command("epp")
    .description(
      "run the endpoint picker for Envoy (ext_proc): igw's queueing and scheduling for one InferencePool; Envoy moves the bytes",
    )
    .addOption(coreFlags.manifestsOrKube())
    .addOption(kubeFlags.kube())
    .addOption(kubeFlags.kubeconfig())
    .addOption(kubeFlags.namespace())
    .addOption(kubeFlags.leaderElect())
    .addOption(kubeFlags.leaderElectNamespace())
    .addOption(kubeFlags.leaderElectLeaseName())
    .addOption(kubeFlags.leaderElectLeaseDuration())
    .addOption(kubeFlags.configFile())
    .addOption(kubeFlags.configMap())
    .addOption(kubeFlags.configMapKey())
    .addOption(coreFlags.endpoints())
    .option("--pool-name <name>", "the InferencePool served (optional when the configuration has one)")
    .option("--pool-namespace <namespace>", "namespace of the InferencePool (default: default)")
    .option("--grpc-port <n>", "ext_proc port (0 = any free port)", integer(0, 65535), 9002)
    .option("--grpc-health-port <n>", "gRPC health port (grpc.health.v1)", integer(0, 65535), 9003)
    .option("--metrics-port <n>", "port of /metrics and /dashboard", integer(0, 65535), 9090)
    .option("--host <address>", "interface to bind", "0.0.0.0")
    .option("--cert-path <dir>", "serve TLS on the ext_proc port with <dir>/tls.crt and <dir>/tls.key")
    .option(
      "--secure-serving",
      "serve TLS on the ext_proc port (a self-signed certificate without --cert-path)",
    )
    .option(
      "--destination-endpoint-header <name>",
      "header and envoy.lb key naming the chosen endpoint (llm-d: x-llm-d-gateway-destination-endpoint)",
      headerName,
      DEFAULT_DESTINATION_HEADER,
    )
    .addOption(coreFlags.bodyLimit())
    .addOption(coreFlags.watchInterval())
    .addOption(coreFlags.scrapeInterval())
    .addOption(coreFlags.scrapeTimeout())
    .addOption(coreFlags.accessLog())
    .option("--no-dashboard", "do not serve the live page on /dashboard of the metrics port")
    .addOption(coreFlags.logLevel())
    .addOption(coreFlags.logFormat())
    .action(async (opts) => {
      if (opts.certPath !== undefined) checkCertPath(opts.certPath);
      const logger = createLogger(opts.logLevel, opts.logFormat);
      // grpc-js writes its own diagnostics to stderr (e.g. a failed bind): they go through the logger.
      setLogger({ error: (...args: unknown[]) => logger.debug({ grpc: args.join(" ") }, "grpc-js") });
      const accessLog = opts.accessLog ? createLogger("info", opts.logFormat) : undefined;
      try {
        const epp = await startEpp({
          ...(await sourceOptions(opts)),
          ...(opts.endpoints !== undefined ? { endpointsFile: opts.endpoints } : {}),
          ...(opts.poolName !== undefined ? { poolName: opts.poolName } : {}),
          ...(opts.poolNamespace !== undefined ? { poolNamespace: opts.poolNamespace } : {}),
          host: opts.host,
          grpcPort: opts.grpcPort,
          grpcHealthPort: opts.grpcHealthPort,
          metricsPort: opts.metricsPort,
          tls: {
            ...(opts.certPath !== undefined ? { certPath: opts.certPath } : {}),
            ...(opts.secureServing ? { secureServing: true } : {}),
          },
          destinationHeader: opts.destinationEndpointHeader,
          bodyLimit: opts.bodyLimit,
          watchIntervalMs: opts.watchInterval,
          scrapeIntervalMs: opts.scrapeInterval,
          scrapeTimeoutMs: opts.scrapeTimeout,
          dashboard: opts.dashboard,
          ...(accessLog ? { accessLog } : {}),
          logger,
        });
        process.stdout.write(
          `${EPP_LISTENING_PREFIX} pool=${epp.poolKey} grpc=${epp.grpcPort} health=${epp.healthPort} metrics=${epp.metricsUrl}\n`,
        );
        const stop = (): void => {
          epp.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        failStartup(
          logger,
          e instanceof PoolChoiceError ? new UsageError(e.message) : e,
          "igw epp could not start",
        );
      }
    });
}
