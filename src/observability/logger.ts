/**
 * The gateway's logs (pino) on stderr, so stdout stays for the CLI's own lines. Format `json`
 * (one object per line, for machines) or `text` (`12:00:01 WARN message key=value`, for people);
 * `auto` picks text when stderr is a terminal.
 */
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

export type { Logger };

export type LogFormat = "json" | "text" | "auto";

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SKIP = new Set(["level", "time", "msg", "name", "pid", "hostname"]);

/** One pino JSON line as `HH:MM:SS LEVEL msg key=value ...`. */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = new Date(Number(rec["time"])).toISOString().slice(11, 19);
  const extra = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${(LEVELS[Number(rec["level"])] ?? "LOG").padEnd(5)} ${String(rec["msg"] ?? "")}${extra ? `  ${extra}` : ""}`;
}

/** `level`: pino level name (fatal, error, warn, info, debug, trace, silent). */
export function createLogger(level = "info", format: LogFormat = "auto"): Logger {
  const text = format === "text" || (format === "auto" && process.stderr.isTTY === true);
  if (!text) return pino({ level, base: { name: "igw" } }, pino.destination({ fd: 2, sync: true }));
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const out = chunk
        .toString()
        .split("\n")
        .filter((l) => l !== "")
        .map(formatLogLine)
        .join("\n");
      process.stderr.write(`${out}\n`, () => cb());
    },
  });
  return pino({ level, base: { name: "igw" } }, stream);
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
