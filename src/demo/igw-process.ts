/**
 * Runs `igw <command>` as a child process (same Node, same loader, same entry script) and waits
 * for its "listening" lines. The demo runs servers and gateway in their own processes so each
 * has its own event loop and its CPU use can be measured.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** A started child: the URLs it announced (and their whole lines), its pid, and stop(). */
export interface IgwProcess {
  readonly urls: readonly string[];
  /** The listening lines, index-aligned with urls (the simulator's carry its KV-event endpoints). */
  readonly lines: readonly string[];
  readonly pid: number;
  /** SIGTERM, SIGKILL after 5 s; resolves when it exited. */
  stop(): Promise<void>;
}

/**
 * Lines announcing a listening server: `igw sim: replica N listening on URL`, `igw serve: listening
 * on URL`, `igw epp: listening ... metrics=URL` (its ports are in the line).
 */
export const LISTENING =
  /^igw (?:(?:sim: replica \d+|serve:) listening on |epp: listening .* metrics=)(http:\/\/\S+)/;

/**
 * Spawns `igw <command> ...args` with this process's Node options; resolves once `count` listening
 * lines appeared (timeout 60 s). entry is the CLI script (default: the running one, as in `igw demo`;
 * benchmarks pass src/cli/main.ts).
 */
export async function startIgw(
  command: string,
  args: readonly string[],
  count: number,
  entry: string = process.argv[1]!,
): Promise<IgwProcess> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, entry, command, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
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
    const announced: string[] = [];
    const urls = await new Promise<string[]>((resolve, reject) => {
      const found: string[] = [];
      let pending = "";
      const timer = setTimeout(
        () => reject(new Error(`igw ${command} did not start in 60 s:\n${err}`)),
        60_000,
      );
      child.stdout!.on("data", (c: Buffer) => {
        pending += c.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          const m = LISTENING.exec(line.trim());
          if (m) {
            found.push(m[1]!);
            announced.push(line.trim());
          }
        }
        if (found.length >= count) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`igw ${command} exited with ${code}:\n${err}`));
      });
    });
    child.stdout!.resume();
    return { urls, lines: announced, pid: child.pid!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
