/** `igw serve`: the gateway data plane in front of the configured pools. */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { startGateway } from "../gateway/start-gateway.ts";
import { createLogger } from "../observability/logger.ts";
import { failStartup } from "./cli-errors.ts";

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** Line printed on stdout per port once the gateway accepts requests, with the address bound (test helpers parse it). */
export const LISTENING_LINE_PREFIX = "igw serve: listening on ";

export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "run the gateway: read InferencePool/InferenceModel/HTTPRoute/... manifests and proxy OpenAI requests",
    )
    .requiredOption(
      "-f, --file <path>",
      "manifest file or folder (repeatable)",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      "--endpoints <file>",
      "standalone endpoints file: endpoints: [{address: host:port, labels: {...}}]",
    )
    .option(
      "--port <n>",
      "listen on this port instead of the Gateway listener ports (0 = any free port)",
      integer(0, 65535),
    )
    .option("--host <address>", "interface to bind", "0.0.0.0")
    .option("--body-limit <bytes>", "maximum request body size", integer(1, 2 ** 31), 16 * 1024 * 1024)
    .option(
      "--max-attempts <n>",
      "endpoints tried per request when connections fail or answer 5xx",
      integer(1, 10),
      3,
    )
    .option(
      "--watch-interval <ms>",
      "how often to check the files for changes (0 = never)",
      integer(0, 3_600_000),
      1000,
    )
    .option(
      "--scrape-interval <ms>",
      "how often each model server's /metrics is scraped",
      integer(1, 60_000),
      50,
    )
    .option("--scrape-timeout <ms>", "timeout of one metrics scrape", integer(1, 60_000), 1000)
    .option("--explain-decisions", "answer with x-gateway-scheduling-decision: each scored endpoint's scores")
    .option("--access-log", "log one line per request (id, models, endpoint, status, queue, TTFT, tokens)")
    .option("--no-dashboard", "do not serve the live page on /dashboard")
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "json lines, or text for people (auto: text on a terminal)")
        .choices(["auto", "json", "text"] as const)
        .default("auto" as const),
    )
    .action(async (opts) => {
      const logger = createLogger(opts.logLevel, opts.logFormat);
      // Its own logger at info, whatever --log-level says: it was asked for.
      const accessLog = opts.accessLog ? createLogger("info", opts.logFormat) : undefined;
      try {
        const gw = await startGateway({
          manifests: opts.file,
          ...(opts.endpoints !== undefined ? { endpointsFile: opts.endpoints } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          host: opts.host,
          bodyLimit: opts.bodyLimit,
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
