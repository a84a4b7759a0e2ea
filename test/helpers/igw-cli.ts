/** Runs `igw <args>` as a real process to its exit (60 s at most), for tests of usage errors. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";

export interface IgwExit {
  readonly status: number | null;
  readonly stderr: string;
}

/** Spawns `node --import tsx src/cli/main.ts ...args` (from the repository root) and waits for its exit. */
export async function runIgw(args: readonly string[]): Promise<IgwExit> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [status] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { status, stderr };
}

/** Exit status 2, `message` on stderr, and no stack trace. */
export function assertUsageError(r: IgwExit, message: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}
