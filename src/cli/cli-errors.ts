/**
 * How `igw` ends on a mistake in how it was called: configuration errors, bad options and values,
 * a port in use. Each is one message on stderr (no stack trace) and exit status 2 in every
 * sub-command; anything else is a bug and keeps its stack trace (status 1).
 */
import type { CommanderError } from "@commander-js/extra-typings";
import type { Logger } from "pino";
import { ConfigError } from "../config/config-error.ts";
import { OptionError } from "../sim/option-values.ts";

/** Exit status of configuration and usage errors. */
export const USAGE_EXIT_CODE = 2;

/** A mistake in the command line or its files that the user must fix; its message says how. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Error codes of `listen()` that mean "pick another address or port", worded with the port's flag. */
const LISTEN_CODES: Readonly<Record<string, (flag: string) => string>> = {
  EADDRINUSE: (flag) => `is already in use: stop the other server, or choose another port with ${flag}`,
  EACCES: (flag) =>
    `may not be opened by this user (ports below 1024 need privileges): choose another with ${flag}`,
  EADDRNOTAVAIL: () => "is not an address of this machine: choose another with --host",
};

/**
 * A `listen()` failure; `flag` names the option choosing that port (default `--port`), for
 * commands with several ports.
 */
export type ListenError = NodeJS.ErrnoException & { address?: string; port?: number; flag?: string };

/** The one-line message for a usage or configuration error, or undefined when `e` is a bug. */
export function usageMessage(e: unknown): string | undefined {
  if (e instanceof ConfigError || e instanceof UsageError || e instanceof OptionError) return e.message;
  const err = e as ListenError;
  const reason =
    err?.syscall === "listen" && err.code !== undefined
      ? LISTEN_CODES[err.code]?.(err.flag ?? "--port")
      : undefined;
  if (reason === undefined) return undefined;
  const where = err.port !== undefined ? `${err.address ?? ""}:${err.port}` : (err.address ?? "");
  return `cannot listen on ${where}: the address ${reason} (${err.code})`;
}

/** What `exitTwoOnUsageErrors` needs of a commander Command. */
interface CommandTree {
  exitOverride(fn: (err: CommanderError) => never): unknown;
  readonly commands: readonly CommandTree[];
}

/** Makes commander's own usage errors (unknown option, bad value, missing argument) exit 2 too. */
export function exitTwoOnUsageErrors(cmd: CommandTree): void {
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE));
  for (const sub of cmd.commands) exitTwoOnUsageErrors(sub);
}

/**
 * For a command whose stderr already belongs to its logger (one format per stream): logs `e` as
 * one fatal line and exits, with 2 and its message for a usage or configuration error, else 1.
 */
export function failStartup(logger: Logger, e: unknown, what: string): never {
  const message = usageMessage(e);
  if (message !== undefined) {
    logger.fatal(e instanceof ConfigError ? { issues: e.issues, warnings: e.warnings } : {}, message);
    process.exit(USAGE_EXIT_CODE);
  }
  logger.fatal({ err: e }, what);
  process.exit(1);
}
