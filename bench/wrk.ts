/**
 * What the wrk-driven benchmarks (bench:proxy, bench:envoy) share: testenv tools, wrk runs with
 * a POST body, CPU time of a process from /proc, medians over rounds, and replacing a marked
 * section of docs/benchmarks.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The path of a testenv tool (`wrk`, `nginx`, `envoy`), installing its component first. */
export function tool(name: string, component = "debian"): string {
  const ensure = spawnSync(process.execPath, [join(ROOT, "scripts/testenv.mjs"), "ensure", component], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (ensure.status !== 0) throw new Error(`npm run testenv -- ensure ${component} failed`);
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/testenv.mjs"), "path", name], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** utime + stime of a process (all its threads), in µs. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / 100; // CLK_TCK = 100 on Linux
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

export function wrkScript(dir: string, body: object): string {
  const file = join(dir, `post-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.body = '${JSON.stringify(body)}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  return file;
}

export function runWrk(
  wrk: string,
  url: string,
  script: string,
  connections: number,
  seconds: number,
): WrkResult {
  const r = spawnSync(
    wrk,
    ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", script, `${url}/v1/completions`],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? Number.NaN);
  const ms = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const requests = num(/(\d+) requests in/);
  const seconds_ = num(/requests in ([\d.]+)s/);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors =
    (Number.isNaN(non2xx) ? 0 : non2xx) +
    (socketErrors ? socketErrors.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  return {
    requests,
    seconds: seconds_,
    rps: requests / seconds_,
    p50ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
    errors,
  };
}

export interface Target {
  readonly name: string;
  readonly url: string;
  /** The proxy process whose CPU is measured (none for direct). */
  readonly pid?: number;
}

export interface Measured {
  rps: number[];
  cpuPerRequest: number[];
  p50: number[];
  p99: number[];
  errors: number;
}

export function measure(
  wrk: string,
  t: Target,
  script: string,
  connections: number,
  seconds: number,
  m: Measured,
): void {
  const before = t.pid ? cpuMicros(t.pid) : 0;
  const r = runWrk(wrk, t.url, script, connections, seconds);
  const cpu = t.pid ? cpuMicros(t.pid) - before : 0;
  m.rps.push(r.rps);
  m.p50.push(r.p50ms);
  m.p99.push(r.p99ms);
  m.errors += r.errors;
  if (t.pid) m.cpuPerRequest.push(cpu / r.requests);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};
export const empty = (): Measured => ({ rps: [], cpuPerRequest: [], p50: [], p99: [], errors: 0 });

/** Replaces the section between the `start` and `end` markers of docs/benchmarks.md (appends it the first time). */
export function writeSection(report: string, start: string, end: string): void {
  const file = join(ROOT, "docs/benchmarks.md");
  const text = readFileSync(file, "utf8");
  const block = `${start}\n${report}\n${end}`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  writeFileSync(
    file,
    a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text}\n${block}\n`,
  );
}
