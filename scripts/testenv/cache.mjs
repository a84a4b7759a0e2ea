// The testenv cache folder and its tools.json (tool name → absolute path).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The cache root, created on first use. */
export function cacheDir() {
  const dir =
    process.env.IGW_TESTENV_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "inference-gateway", "testenv");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Tool paths recorded so far ({} when none). */
export function readTools() {
  const file = join(cacheDir(), "tools.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
}

/** Replaces tools.json atomically. */
export function writeTools(tools) {
  const file = join(cacheDir(), "tools.json");
  writeFileSync(`${file}.tmp`, `${JSON.stringify(tools, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
