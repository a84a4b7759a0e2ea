/**
 * Flags every command that runs the core shares (`igw serve`, `igw epp`): value parsers and the
 * options for file watching, model-server scraping, the access log and logging, with one wording.
 */
import { InvalidArgumentError, Option } from "@commander-js/extra-typings";

/** A commander value parser accepting integers in min..max. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** The core's flags, as Option objects to `addOption()` (typed for commander's extra-typings). */
export const coreFlags = {
  manifests: () =>
    new Option("-f, --file <path>", "manifest file or folder (repeatable)")
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .makeOptionMandatory(),
  /** `-f` for a command with another source (`igw serve --kube`): not mandatory. */
  manifestsOrKube: () =>
    new Option("-f, --file <path>", "manifest file or folder (repeatable); or --kube").argParser(
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    ),
  endpoints: () =>
    new Option(
      "--endpoints <file>",
      "standalone endpoints file: endpoints: [{address: host:port, labels: {...}}]",
    ),
  bodyLimit: () =>
    new Option("--body-limit <bytes>", "maximum request body size")
      .argParser(integer(1, 2 ** 31))
      .default(16 * 1024 * 1024),
  watchInterval: () =>
    new Option("--watch-interval <ms>", "how often to check the files for changes (0 = never)")
      .argParser(integer(0, 3_600_000))
      .default(1000),
  scrapeInterval: () =>
    new Option("--scrape-interval <ms>", "how often each model server's /metrics is scraped")
      .argParser(integer(1, 60_000))
      .default(50),
  scrapeTimeout: () =>
    new Option("--scrape-timeout <ms>", "timeout of one metrics scrape")
      .argParser(integer(1, 60_000))
      .default(1000),
  accessLog: () =>
    new Option(
      "--access-log",
      "log one line per request (id, models, endpoint, status, queue, TTFT, tokens)",
    ),
  logLevel: () =>
    new Option("--log-level <level>", "log level")
      .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  logFormat: () =>
    new Option("--log-format <format>", "json lines, or text for people (auto: text on a terminal)")
      .choices(["auto", "json", "text"] as const)
      .default("auto" as const),
};
