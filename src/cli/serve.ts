/** `igw serve`: the gateway data plane in front of the configured pools. */
import { Command } from "@commander-js/extra-typings";
import { startGateway } from "../gateway/start-gateway.ts";
import { createLogger } from "../observability/logger.ts";
import { failStartup } from "./cli-errors.ts";
import { coreFlags, integer } from "./core-flags.ts";
import { kubeFlags, sourceOptions } from "./kube-flags.ts";

/** Line printed on stdout per port once the gateway accepts requests, with the address bound (test helpers parse it). */
export const LISTENING_LINE_PREFIX = "igw serve: listening on ";

export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "run the gateway: read InferencePool/InferenceModel/HTTPRoute/... manifests (files, or --kube) and proxy OpenAI requests",
    )
    .addOption(coreFlags.manifestsOrKube())
    .addOption(kubeFlags.kube())
    .addOption(kubeFlags.kubeconfig())
    .addOption(kubeFlags.namespace())
    .option(
      "--gateway-class <name>",
      "with --kube: serve (and write the status of) only the Gateways of this GatewayClass",
    )
    .addOption(kubeFlags.leaderElect())
    .addOption(kubeFlags.leaderElectNamespace())
    .addOption(kubeFlags.leaderElectLeaseName())
    .addOption(kubeFlags.leaderElectLeaseDuration())
    .addOption(kubeFlags.configFile())
    .addOption(kubeFlags.configMap())
    .addOption(kubeFlags.configMapKey())
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
          ...(await sourceOptions(opts, opts.gatewayClass)),
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
        for (const url of gw.listening) process.stdout.write(`${LISTENING_LINE_PREFIX}${url}\n`);
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
