/** The gateway's structured logs (pino, JSON lines on stderr so stdout stays for the CLI's own lines). */
import { type Logger, pino } from "pino";

export type { Logger };

/** `level`: pino level name (fatal, error, warn, info, debug, trace, silent). */
export function createLogger(level = "info"): Logger {
  return pino({ level, base: { name: "igw" } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
