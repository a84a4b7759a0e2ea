/**
 * Paths of the real components `npm run testenv -- ensure` installed (scripts/testenv.mjs), read
 * from <cache>/tools.json. A test that needs one fails with the command that installs it.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/helpers/testenv.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The cache folder scripts/testenv/cache.mjs uses. */
function cacheDir(): string {
  return (
    process.env["IGW_TESTENV_CACHE"] ??
    join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "inference-gateway", "testenv")
  );
}

/** Absolute path of an installed tool (file or folder); throws naming the install command. */
export function testTool(name: string, component: string = name): string {
  const file = join(cacheDir(), "tools.json");
  const tools = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>) : {};
  const path = tools[name];
  if (path === undefined || !existsSync(path))
    throw new Error(`test tool "${name}" is not installed; run: npm run testenv -- ensure ${component}`);
  return path;
}
