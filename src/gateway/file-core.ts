/**
 * What every file-configured process (`igw serve`, `igw epp`) shares: its options for the file
 * source and the core, and how they become a FileSource and CoreOptions.
 */
import { FileSource } from "../config/file-source.ts";
import type { Logger } from "../observability/logger.ts";
import type { CoreOptions } from "./core.ts";

export interface FileCoreOptions {
  /** Manifest files or folders (multi-document YAML). */
  readonly manifests: readonly string[];
  /** Standalone endpoints file (`endpoints: [{address, labels}]`). */
  readonly endpointsFile?: string;
  /** Poll interval for file changes, ms; 0 disables watching. Default 1000. */
  readonly watchIntervalMs?: number;
  /** Recheck `/v1/models` of the endpoints this often, ms; 0 = only on start and changes. Default 30000. */
  readonly checkIntervalMs?: number;
  /** Model-server metrics scrape interval per endpoint, ms. Default 50. */
  readonly scrapeIntervalMs?: number;
  /** Model-server metrics scrape timeout, ms. Default 1000. */
  readonly scrapeTimeoutMs?: number;
  /** Serve the live page on `/dashboard`. Default true. */
  readonly dashboard?: boolean;
  /** Write one access-log line per request here (`--access-log`). */
  readonly accessLog?: Logger;
  readonly logger?: Logger;
}

/** The file source of `o`; `defaultPort`: the port of the implicit listener (no Gateway in the files). */
export function fileSource(o: FileCoreOptions, defaultPort: number): FileSource {
  return new FileSource({
    manifests: o.manifests,
    ...(o.endpointsFile !== undefined ? { endpointsFile: o.endpointsFile } : {}),
    defaultPort,
    ...(o.watchIntervalMs !== undefined ? { watchIntervalMs: o.watchIntervalMs } : {}),
  });
}

/** The core settings `o` sets (scraping, served-models checks, dashboard, access log). */
export function coreSettings(
  o: Omit<FileCoreOptions, "manifests">,
): Pick<CoreOptions, "scrapeIntervalMs" | "scrapeTimeoutMs" | "checkIntervalMs" | "dashboard" | "accessLog"> {
  return {
    ...(o.scrapeIntervalMs !== undefined ? { scrapeIntervalMs: o.scrapeIntervalMs } : {}),
    ...(o.scrapeTimeoutMs !== undefined ? { scrapeTimeoutMs: o.scrapeTimeoutMs } : {}),
    ...(o.checkIntervalMs !== undefined ? { checkIntervalMs: o.checkIntervalMs } : {}),
    ...(o.dashboard === false ? { dashboard: false } : {}),
    ...(o.accessLog ? { accessLog: o.accessLog } : {}),
  };
}
