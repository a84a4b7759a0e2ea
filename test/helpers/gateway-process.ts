/**
 * Spawns `igw serve <args> --port 0` as a real process and waits for its startup line
 * (`igw serve: listening on http://127.0.0.1:<port>`). Always call `stop()` (in `finally`/`after`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const LINE = /^igw serve: listening on (http:\/\/\S+)$/m;

export interface GatewayProcess {
  /** URL of the first listener. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (JSON log lines). */
  stderr(): string;
  stop(): Promise<void>;
}

/** `args`: everything after `igw serve` except `--port` (added as `--port 0`). */
export async function startGatewayProcess(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", MAIN, "serve", ...args, "--port", "0", "--host", "127.0.0.1"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`igw serve did not start in ${timeoutMs} ms:\n${err}`)),
        timeoutMs,
      );
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = LINE.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`igw serve exited with ${code}:\n${err}`));
      });
    });
    return { url, child, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
