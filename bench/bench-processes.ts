/**
 * Processes a benchmark runs and measures: spawn, wait until it listens, stop. The URL comes from
 * a stdout line (igw's "listening on" lines) or, for programs that print none (nginx), from a
 * function polled until a TCP connection succeeds.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface Service {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const c = connect(Number(port), hostname);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** Starts `cmd args` and resolves once it listens (30 s at most). */
export async function startService(
  name: string,
  cmd: string,
  args: readonly string[],
  line: RegExp | undefined,
  url?: () => Promise<string>,
): Promise<Service> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${err}`);
    const found = line ? line.exec(out)?.[1] : await url!();
    if (found !== undefined && (await accepts(found))) return { name, url: found, pid: child.pid!, child };
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start in 30 s:\n${err}`);
    }
    await sleep(50);
  }
}

/**
 * One `igw sim` replica serving `qwen` with the instant engine, from the CLI script `main`
 * (`extraArgs`, e.g. `--step-base-ms 2`, go before the port).
 */
export function startInstantSim(
  main: string,
  name = "sim",
  extraArgs: readonly string[] = [],
): Promise<Service> {
  return startService(
    name,
    process.execPath,
    [main, "sim", "--profile", "instant", ...extraArgs, "--model", "qwen", "--port", "0"],
    /replica 0 listening on (http:\/\/\S+)/,
  );
}

/** Stops services (SIGINT, so profilers write their files; SIGKILL after 5 s). */
export async function stopAll(services: readonly Service[]): Promise<void> {
  await Promise.all(
    services.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      const exited = once(s.child, "exit");
      s.child.kill("SIGINT");
      const t = setTimeout(() => s.child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }),
  );
}
