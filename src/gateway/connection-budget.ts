/**
 * How many client connections a gateway may hold per port: the configured cap, lowered to what
 * the process's open-file limit allows. libuv accepts and closes connections silently when file
 * descriptors run out (EMFILE), so the cap is what makes running out visible: connections over
 * it are refused and logged, and half of the descriptors stay free for upstream connections,
 * files and metrics scrapes.
 */
import { readFileSync } from "node:fs";

/** The default cap on client connections per port. */
export const DEFAULT_MAX_CONNECTIONS = 16_384;

/** The soft open-file limit (`ulimit -n`), from /proc/self/limits; undefined where that is not readable. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === "unlimited") return undefined;
  return Number(m[1]);
}

/**
 * The cap per port for `wanted` connections (default DEFAULT_MAX_CONNECTIONS) over `ports`
 * listener ports, and why it is lower when it is.
 */
export function connectionBudget(
  wanted: number | undefined,
  ports: number,
  fdLimit: number | undefined,
): { maxConnections: number; limitedBy?: string } {
  const asked = wanted ?? DEFAULT_MAX_CONNECTIONS;
  if (fdLimit === undefined) return { maxConnections: asked };
  const allowed = Math.max(8, Math.floor(fdLimit / 2 / Math.max(1, ports)));
  if (allowed >= asked) return { maxConnections: asked };
  return {
    maxConnections: allowed,
    limitedBy:
      `the open-file limit is ${fdLimit}: accepting at most ${allowed} client connections per port ` +
      `(not ${asked}), half the descriptors kept for upstream connections; raise it with ulimit -n`,
  };
}
