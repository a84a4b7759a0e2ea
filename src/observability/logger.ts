/**
 * The CLI's diagnostics: pino on stderr, one format per stream. stdout carries only the commands'
 * own output (listening lines, reports); every diagnostic line on stderr goes through a logger made
 * here, as JSON lines (for machines) or text (for people), never both: `auto` picks text when stderr
 * is a terminal. Text is pino-pretty's (the pino team's formatter: error stacks, colour only on a
 * terminal, synchronous writes so nothing is lost at exit), not a formatter of our own.
 */
import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export type LogFormat = "json" | "text" | "auto";

/** `auto` → text when `stream` (default stderr) is a terminal, else json. */
export function resolveLogFormat(
  format: LogFormat,
  stream: { isTTY?: boolean } = process.stderr,
): "json" | "text" {
  if (format !== "auto") return format;
  return stream.isTTY === true ? "text" : "json";
}

/** Keys pino writes itself; a field of the same name would appear twice in one JSON object. */
const RESERVED = new Set(["level", "time", "msg"]);

/**
 * Moves fields that clash with pino's own keys under `fields` (`{msg: "x"}` → `{fields: {msg: "x"}}`),
 * so every JSON line has each key once. There is no `name`/`pid`/`hostname` base: one process, one
 * logger, and `name` is the natural field for a pool's or a model's name. (pino writes `child()`
 * bindings as they are: a child must not bind a key its calls also pass.)
 */
function withoutClashes(obj: Record<string, unknown>): Record<string, unknown> {
  let clash = false;
  for (const k in obj) if (RESERVED.has(k)) clash = true;
  if (!clash) return obj;
  const out: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) (RESERVED.has(k) ? fields : out)[k] = v;
  out["fields"] = fields;
  return out;
}

/**
 * `level`: pino level name (fatal, error, warn, info, debug, trace, silent); `format` as in
 * `resolveLogFormat` (against stderr); writes to stderr synchronously, or to `stream` (tests).
 */
export function createLogger(
  level = "info",
  format: LogFormat = "auto",
  stream?: NodeJS.WritableStream,
): Logger {
  const options = { level, base: undefined, formatters: { log: withoutClashes } };
  if (resolveLogFormat(format) === "json")
    return pino(options, stream ?? pino.destination({ fd: 2, sync: true }));
  return pino(
    options,
    pretty({
      ...(stream ? { destination: stream } : { destination: 2, sync: true }),
      colorize: stream === undefined && process.stderr.isTTY === true,
      translateTime: "SYS:HH:MM:ss",
      singleLine: true,
    }),
  );
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
