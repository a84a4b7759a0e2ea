/**
 * What the endpoint picker costs behind Envoy, in one run: `igw sim` (instant engine) served
 * directly; through Envoy with a static cluster (deploy/envoy/envoy.yaml without the ext_proc
 * filter: no picker); through Envoy asking `igw epp` (the seed's pool, the shipped configuration);
 * and through `igw serve` (the seed's pool). Both igw processes run from dist/. Envoy runs with
 * `--concurrency 1`. Load from wrk; each process's CPU from /proc over its rounds.
 *
 *   npm run bench:envoy [-- --duration 3 --rounds 3 --connections 4 --write]
 *
 * 1. Closed loop, `connections` keep-alive connections (default 4: below the seed pool's queue
 *    threshold, so nothing waits in flow control), non-streaming (`max_tokens: 1`): throughput,
 *    and CPU µs per request of Envoy, of igw epp and of igw serve.
 * 2. One connection: p50 / p99 latency; added = path − direct.
 * `--write` replaces the bench:envoy section of docs/benchmarks.md with the results.
 * `--cpu-prof DIR` runs igw epp under node's CPU profiler and prints where its time goes.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { envoyBootstrap } from "../src/envoy/envoy-bootstrap.ts";
import { clusterCounters, type EnvoyProcess, startEnvoyProcess } from "../src/envoy/envoy-process.ts";
import { freePort, type Service, startInstantSim, startService, stopAll } from "./bench-processes.ts";
import { summarizeCpuProfile } from "./cpu-profile-summary.ts";
import { cpuMicros, median, runWrk, tool, writeSection, wrkScript } from "./wrk.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "4" },
    write: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");
const SEED = join(ROOT, "examples/seed");
/** Envoy's counters of the ext_proc cluster: streams, those it reset, GOAWAYs received, retries. */
const EXT_PROC_COUNTERS = [
  "upstream_rq_total",
  "http2.tx_reset",
  "upstream_cx_close_notify",
  "upstream_rq_retry",
];

/** One way to the engine, and the processes on it whose CPU is counted. */
interface Path {
  readonly name: string;
  readonly url: string;
  readonly processes: Readonly<Record<string, number>>;
}

interface PathResult {
  rps: number[];
  /** Per process name: CPU µs per request, one entry per round. */
  cpu: Record<string, number[]>;
  p50: number[];
  p99: number[];
  errors: number;
}

function measureClosed(wrk: string, path: Path, body: string, r: PathResult): void {
  const before = Object.fromEntries(Object.entries(path.processes).map(([n, pid]) => [n, cpuMicros(pid)]));
  const w = runWrk(wrk, path.url, body, CONNECTIONS, DURATION);
  r.rps.push(w.rps);
  r.errors += w.errors;
  for (const [n, pid] of Object.entries(path.processes)) {
    const rounds = r.cpu[n] ?? [];
    rounds.push((cpuMicros(pid) - before[n]!) / w.requests);
    r.cpu[n] = rounds;
  }
}

function measureLatency(wrk: string, path: Path, body: string, r: PathResult): void {
  const w = runWrk(wrk, path.url, body, 1, DURATION);
  r.p50.push(w.p50ms);
  r.p99.push(w.p99ms);
  r.errors += w.errors;
}

/** deploy/envoy/envoy.yaml to the sim's address, with or without the ext_proc filter. */
function envoyConfig(sim: string, extProc: { port: number; health: number } | undefined): object {
  const doc = envoyBootstrap({
    extProcPort: extProc?.port ?? 9,
    healthPort: extProc?.health ?? 9,
    poolEndpoints: [sim],
  }) as {
    static_resources: {
      listeners: { filter_chains: { filters: { typed_config: { http_filters: { name: string }[] } }[] }[] }[];
      clusters: { name: string }[];
    };
  };
  if (extProc) return doc;
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
  hcm.http_filters = hcm.http_filters.filter((f) => f.name !== "envoy.filters.http.ext_proc");
  doc.static_resources.clusters = doc.static_resources.clusters.filter((c) => c.name !== "ext_proc");
  return doc;
}

async function main(): Promise<void> {
  const wrk = tool("wrk");
  const envoyBin = tool("envoy", "envoy");
  const dir = mkdtempSync(join(tmpdir(), "igw-bench-envoy-"));
  const load0 = loadavg();
  const started: Service[] = [];
  const envoys: EnvoyProcess[] = [];
  try {
    const sim = await startInstantSim(MAIN);
    started.push(sim);
    const upstream = new URL(sim.url).host;
    const endpoints = join(dir, "endpoints.yaml");
    writeFileSync(endpoints, `endpoints:\n  - address: ${upstream}\n    labels: {app: qwen}\n`);

    const serve = await startService(
      "igw serve",
      process.execPath,
      [MAIN, "serve", "-f", SEED, "--endpoints", endpoints, "--port", "0", "--host", "127.0.0.1"],
      /igw serve: listening on (http:\/\/\S+)/,
    );
    started.push(serve);
    const [grpc, health, metrics] = [await freePort(), await freePort(), await freePort()];
    const epp = await startService(
      "igw epp",
      process.execPath,
      [
        ...(args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`] : []),
        ...[MAIN, "epp", "-f", SEED, "--endpoints", endpoints, "--host", "127.0.0.1"],
        ...[
          "--grpc-port",
          String(grpc),
          "--grpc-health-port",
          String(health),
          "--metrics-port",
          String(metrics),
        ],
      ],
      /igw epp: listening .* metrics=(http:\/\/\S+)/,
    );
    started.push(epp);
    const staticEnvoy = await startEnvoyProcess(envoyBin, envoyConfig(upstream, undefined));
    envoys.push(staticEnvoy);
    const pickerEnvoy = await startEnvoyProcess(envoyBin, envoyConfig(upstream, { port: grpc, health }));
    envoys.push(pickerEnvoy);

    const paths: Path[] = [
      { name: "direct", url: sim.url, processes: {} },
      {
        name: "Envoy, static cluster (no picker)",
        url: staticEnvoy.url,
        processes: { envoy: staticEnvoy.child.pid! },
      },
      {
        name: "Envoy + igw epp (seed pool)",
        url: pickerEnvoy.url,
        processes: { envoy: pickerEnvoy.child.pid!, epp: epp.pid },
      },
      { name: "igw serve (seed pool)", url: serve.url, processes: { serve: serve.pid } },
    ];
    const body = wrkScript(dir, { model: "qwen", prompt: "Hello there", max_tokens: 1 });
    for (const p of paths) runWrk(wrk, p.url, body, CONNECTIONS, 2); // warm-up: JIT, connections, health checks
    const results = new Map<string, PathResult>(
      paths.map((p) => [p.name, { rps: [], cpu: {}, p50: [], p99: [], errors: 0 }]),
    );
    for (let round = 0; round < ROUNDS; round++)
      for (const p of paths) measureClosed(wrk, p, body, results.get(p.name)!);
    for (let round = 0; round < ROUNDS; round++)
      for (const p of paths) measureLatency(wrk, p, body, results.get(p.name)!);
    const report = formatReport(
      paths,
      results,
      load0,
      loadavg(),
      await clusterCounters(pickerEnvoy, "ext_proc", EXT_PROC_COUNTERS),
    );
    console.log(report);
    if (args.write) writeSection(report, "<!-- bench:envoy:start -->", "<!-- bench:envoy:end -->");
    if (args["cpu-prof"]) {
      await stopAll([epp]);
      const file = readdirSync(args["cpu-prof"]).find((f) => f.endsWith(".cpuprofile"));
      if (file)
        console.log(`\nwhere igw epp's time goes:\n${summarizeCpuProfile(join(args["cpu-prof"], file))}`);
    }
  } finally {
    await Promise.all(envoys.map((e) => e.stop()));
    await stopAll(started.reverse());
    rmSync(dir, { recursive: true, force: true });
  }
}

function formatReport(
  paths: Path[],
  results: Map<string, PathResult>,
  load0: number[],
  load1: number[],
  extProc: Record<string, number>,
): string {
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const cpu = (r: PathResult, n: string) => (r.cpu[n] ? median(r.cpu[n]) : Number.NaN);
  const cell = (x: number) => (Number.isNaN(x) ? "—" : f1(x));
  const direct = results.get("direct")!;
  const lines = [
    `Command: \`npm run bench:envoy -- --duration ${DURATION} --rounds ${ROUNDS} --connections ${CONNECTIONS}\`` +
      ` (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}, Envoy 1.40` +
      ` --concurrency 1, load average ${f1(load0[0]!)} before, ${f1(load1[0]!)} after). Medians of ${ROUNDS}` +
      ` rounds of ${DURATION} s; \`igw sim\` with the instant engine, \`max_tokens: 1\`.`,
    "",
    `| path | req/s at ${CONNECTIONS} conns | vs direct | CPU µs/request: Envoy | igw epp | igw serve | p50 / p99 at 1 conn | added p50 |`,
    "|---|---|---|---|---|---|---|---|",
  ];
  const errors: string[] = [];
  for (const p of paths) {
    const r = results.get(p.name)!;
    if (r.errors > 0) errors.push(`${p.name}: ${r.errors} failed requests`);
    lines.push(
      `| ${p.name} | ${Math.round(median(r.rps))} | ${f2(median(r.rps) / median(direct.rps))} | ` +
        `${cell(cpu(r, "envoy"))} | ${cell(cpu(r, "epp"))} | ${cell(cpu(r, "serve"))} | ` +
        `${f2(median(r.p50))} / ${f2(median(r.p99))} ms | ` +
        `${p.name === "direct" ? "—" : `${f2(median(r.p50) - median(direct.p50))} ms`} |`,
    );
  }
  const stat = results.get(paths[1]!.name)!;
  const picker = results.get(paths[2]!.name)!;
  const serve = results.get(paths[3]!.name)!;
  lines.push(
    "",
    `The picker adds ${f2(median(picker.p50) - median(stat.p50))} ms at p50 over Envoy alone; per request, Envoy's own CPU grows ` +
      `${f1(cpu(picker, "envoy") - cpu(stat, "envoy"))} µs (the ext_proc stream) and igw epp spends ${f1(cpu(picker, "epp"))} µs, ` +
      `against ${f1(cpu(serve, "serve"))} µs for \`igw serve\` moving the bytes itself ` +
      `(Envoy + epp together: ${f2((cpu(picker, "envoy") + cpu(picker, "epp")) / cpu(serve, "serve"))}× igw serve).`,
  );
  lines.push(
    "",
    `Envoy's ext_proc cluster over the run: ${extProc["upstream_rq_total"]} streams, ${extProc["http2.tx_reset"]} reset by Envoy, ` +
      `${extProc["upstream_cx_close_notify"]} GOAWAYs received, ${extProc["upstream_rq_retry"]} retried.`,
  );
  if (errors.length > 0) lines.push("", `Failed requests: ${errors.join("; ")}.`);
  return lines.join("\n");
}

await main();
