/**
 * Spawns `igw epp <args>` as a real process on loopback (every port 0 unless `args` sets it) and
 * waits for its startup line (`igw epp: listening pool=... grpc=N health=N metrics=URL`).
 * Always call `stop()` (in `finally`/`after`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const LINE = /^igw epp: listening pool=(\S+) grpc=(\d+) health=(\d+) metrics=(\S+)$/m;

export interface EppProcess {
  readonly poolKey: string;
  readonly grpcPort: number;
  readonly healthPort: number;
  /** http://127.0.0.1:PORT of /metrics and /dashboard. */
  readonly metricsUrl: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crashed picker). */
  kill(): Promise<void>;
}

/** `args`: everything after `igw epp`; ports default to 0 and the host to 127.0.0.1. */
export async function startEppProcess(args: readonly string[], timeoutMs = 60_000): Promise<EppProcess> {
  const defaults = [
    ...(args.includes("--grpc-port") ? [] : ["--grpc-port", "0"]),
    ...(args.includes("--grpc-health-port") ? [] : ["--grpc-health-port", "0"]),
    ...(args.includes("--metrics-port") ? [] : ["--metrics-port", "0"]),
    ...(args.includes("--host") ? [] : ["--host", "127.0.0.1"]),
    ...(args.includes("--log-format") ? [] : ["--log-format", "json"]),
  ];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "epp", ...args, ...defaults], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
    if (err.length > 2_000_000) err = err.slice(-1_000_000);
  });
  const exited = once(child, "exit");
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (gone()) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const stop = () => signal("SIGTERM");
  try {
    const m = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`igw epp did not start in ${timeoutMs} ms:\n${err}`)),
        timeoutMs,
      );
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const found = LINE.exec(out);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`igw epp exited with ${code}:\n${err}`));
      });
    });
    return {
      poolKey: m[1]!,
      grpcPort: Number(m[2]),
      healthPort: Number(m[3]),
      metricsUrl: m[4]!,
      child,
      stderr: () => err,
      stop,
      kill: () => signal("SIGKILL"),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
