/** Paths of the test-environment tools (`npm run testenv -- ensure`), asked of scripts/testenv.mjs. */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/helpers/testenv.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of `tool` from the testenv cache; throws naming the command that installs it. */
export function testenvTool(tool: string): string {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "scripts", "testenv.mjs"), "path", tool], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`${r.stderr.trim()} (tool "${tool}")`);
  return r.stdout.trim();
}
