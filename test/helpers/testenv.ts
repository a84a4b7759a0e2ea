/**
 * Paths of the real components the suite runs against, as `npm run testenv -- ensure` recorded them
 * in `<cache>/tools.json` (scripts/testenv/cache.mjs). A missing tool fails the test with the
 * command that installs it: the suite never skips a real-peer test quietly.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The testenv cache folder (same rule as scripts/testenv/cache.mjs). */
function cacheDir(): string {
  return (
    process.env["IGW_TESTENV_CACHE"] ??
    join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "inference-gateway", "testenv")
  );
}

/** Absolute path of `tool` (e.g. "prometheus", "chromium"); throws naming the install command. */
export function toolPath(tool: string, component = "debian"): string {
  const file = join(cacheDir(), "tools.json");
  const tools = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>) : {};
  const path = tools[tool];
  if (path === undefined || !existsSync(path))
    throw new Error(`${tool} is not installed for the tests; run: npm run testenv -- ensure ${component}`);
  return path;
}
