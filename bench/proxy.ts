/**
 * The proxy's cost, measured in one run against a plain reverse proxy: `igw sim` (one replica,
 * instant profile) served directly, through Debian's nginx-light (one worker, upstream keep-alive),
 * and through `igw serve` from dist/ — once with the seed's pool (queueing, scorer profile) and
 * once with a plain pool (bench/overhead-manifests.yaml). Load from wrk (C, cheap), so the client
 * takes little of the 2 cores. Each proxy's CPU time is read from /proc over its rounds.
 *
 *   npm run bench:proxy [-- --duration 5 --rounds 3 --connections 32 --write]
 *
 * 1. Closed loop, `connections` keep-alive connections, non-streaming (`max_tokens: 1`), against
 *    the instant engine: throughput, and CPU µs per request of each proxy (its /proc utime+stime /
 *    requests). An instant engine finishes requests before a scrape can see them running; the
 *    seed pool's detector counts only the change in in-flight work since a scrape as queued, so
 *    flow control holds requests only while that change passes the queue threshold.
 * 2. The same with `room-connections` (default 4, below the detector's 5-request queue threshold),
 *    so nothing can wait in flow control: the path's own cost. The share of requests that waited
 *    is read from igw's queue-duration histogram.
 * 3. One connection (far below saturation): p50 / p99 latency; added = proxy − direct.
 * 4. Streaming, 8 and 64 tokens per request, the 2 ms engine, so each event is its own read:
 *    CPU per streamed chunk = (CPU/request at 64 − at 8) / 56.
 * 5. The dashboard's cost: in each round of 1., the seed-pool gateway is measured a second time
 *    with one idle page open on its `/dashboard/events` (issue 14: within 5% of closed).
 * `--write` replaces the bench:proxy section of docs/benchmarks.md with the results.
 * `--cpu-prof DIR` runs igw under node's CPU profiler and prints where its time goes.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { request } from "undici";
import { freePort, type Service, startInstantSim, startService, stopAll } from "./bench-processes.ts";
import { summarizeCpuProfile } from "./cpu-profile-summary.ts";
import {
  empty,
  type Measured,
  measure,
  median,
  runWrk,
  type Target,
  tool,
  writeSection,
  wrkScript,
} from "./wrk.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    write: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    "room-connections": { type: "string", default: "4" },
  },
});
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const ROOM_CONNECTIONS = Number(args["room-connections"]);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");

/** An idle dashboard page: `/dashboard/events` open, every event read and dropped. Returns the close. */
async function openPage(base: string): Promise<() => void> {
  const controller = new AbortController();
  const res = await request(`${base}/dashboard/events`, { signal: controller.signal });
  if (res.statusCode !== 200) throw new Error(`/dashboard/events answered ${res.statusCode}`);
  res.body.on("data", () => {});
  res.body.on("error", () => {});
  return () => controller.abort();
}

async function main(): Promise<void> {
  const wrk = tool("wrk");
  const nginx = tool("nginx");
  const dir = mkdtempSync(join(tmpdir(), "igw-bench-proxy-"));
  const load0 = loadavg();
  const started: Service[] = [];
  try {
    const sim = await startInstantSim(MAIN);
    started.push(sim);
    const streamSim = await startInstantSim(MAIN, "sim (2 ms steps)", ["--step-base-ms", "2"]);
    started.push(streamSim);
    const upstream = new URL(sim.url).host;
    const streamUpstream = new URL(streamSim.url).host;

    const nginxDir = join(dir, "nginx");
    const nginxPorts = [await freePort(), await freePort()];
    const nginxConf = nginxConfig(nginxDir, [upstream, streamUpstream], nginxPorts);
    const ng = await startService(
      "nginx",
      nginx,
      ["-c", nginxConf, "-p", nginxDir],
      undefined,
      async () => `http://127.0.0.1:${nginxPorts[0]}`,
    );
    started.push(ng);
    const ngWorker = workerPid(ng.pid);

    const endpoints = (host: string) => {
      const f = join(dir, `endpoints-${host.replace(/\W/g, "_")}.yaml`);
      writeFileSync(f, `endpoints:\n  - address: ${host}\n    labels: {app: qwen}\n`);
      return f;
    };
    const igw = async (name: string, manifests: string, host: string): Promise<Service> => {
      const profArgs = args["cpu-prof"]
        ? ["--cpu-prof", `--cpu-prof-dir=${join(args["cpu-prof"], name)}`]
        : [];
      const s = await startService(
        name,
        process.execPath,
        [
          ...profArgs,
          MAIN,
          "serve",
          "-f",
          manifests,
          "--endpoints",
          endpoints(host),
          "--port",
          "0",
          "--host",
          "127.0.0.1",
        ],
        /igw serve: listening on (http:\/\/\S+)/,
      );
      started.push(s);
      return s;
    };
    const seed = await igw("igw-seed", join(ROOT, "examples/seed"), upstream);
    const plain = await igw("igw-plain", join(ROOT, "bench/overhead-manifests.yaml"), upstream);
    const seedStream = await igw("igw-seed-stream", join(ROOT, "examples/seed"), streamUpstream);

    const targets: Target[] = [
      { name: "direct", url: sim.url },
      { name: "nginx", url: ng.url, pid: ngWorker },
      { name: "igw (seed pool)", url: seed.url, pid: seed.pid },
      { name: "igw (plain pool)", url: plain.url, pid: plain.pid },
    ];
    const body = wrkScript(dir, { model: "qwen", prompt: "Hello there", max_tokens: 1 });
    // Warm-up: JIT, connections, scrapers.
    for (const t of targets) runWrk(wrk, t.url, body, CONNECTIONS, 2);

    const closed = new Map(targets.map((t) => [t.name, empty()]));
    const light = new Map(targets.map((t) => [t.name, empty()]));
    const withPage = empty();
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) measure(wrk, t, body, CONNECTIONS, DURATION, closed.get(t.name)!);
      const close = await openPage(seed.url);
      measure(wrk, targets[2]!, body, CONNECTIONS, DURATION, withPage);
      close();
    }
    for (let round = 0; round < ROUNDS; round++)
      for (const t of targets) measure(wrk, t, body, 1, DURATION, light.get(t.name)!);

    // Below the detector's queue threshold nothing can wait: the path's own cost.
    const pressureWaited = await waitedShare(seed.url);
    const room = new Map(targets.map((t) => [t.name, empty()]));
    for (let round = 0; round < ROUNDS; round++)
      for (const t of targets) measure(wrk, t, body, ROOM_CONNECTIONS, DURATION, room.get(t.name)!);
    const waitedAfter = await waitedShare(seed.url);
    const roomWaited =
      (waitedAfter.waited - pressureWaited.waited) / Math.max(1, waitedAfter.total - pressureWaited.total);

    const streamTargets: Target[] = [
      { name: "nginx", url: `http://127.0.0.1:${nginxPorts[1]}`, pid: ngWorker },
      { name: "igw (seed pool)", url: seedStream.url, pid: seedStream.pid },
    ];
    const stream = (tokens: number) =>
      wrkScript(dir, {
        model: "qwen",
        prompt: "Hello there",
        max_tokens: tokens,
        stream: true,
        ignore_eos: true,
      });
    const s8 = stream(8);
    const s64 = stream(64);
    const streamed = new Map<string, { short: Measured; long: Measured }>();
    for (const t of streamTargets) {
      runWrk(wrk, t.url, s8, CONNECTIONS, 2);
      streamed.set(t.name, { short: empty(), long: empty() });
    }
    for (let round = 0; round < ROUNDS; round++)
      for (const t of streamTargets) {
        measure(wrk, t, s8, CONNECTIONS, DURATION, streamed.get(t.name)!.short);
        measure(wrk, t, s64, CONNECTIONS, DURATION, streamed.get(t.name)!.long);
      }
    const load1 = loadavg();

    const report = formatReport(
      targets,
      closed,
      light,
      { targets, measured: room, waited: roomWaited },
      pressureWaited.waited / Math.max(1, pressureWaited.total),
      streamed,
      withPage,
      load0,
      load1,
    );
    console.log(report);
    if (args.write) writeSection(report, "<!-- bench:proxy:start -->", "<!-- bench:proxy:end -->");
    if (args["cpu-prof"]) {
      await stopAll(started.splice(0).reverse());
      for (const name of ["igw-seed", "igw-plain"]) {
        const d = join(args["cpu-prof"], name);
        const file = readdirSync(d).find((f) => f.endsWith(".cpuprofile"));
        if (file) console.log(`\nwhere ${name}'s time goes:\n${summarizeCpuProfile(join(d, file))}`);
      }
    }
  } finally {
    await stopAll(started.reverse());
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The nginx worker (the master only forks it): its CPU is what serves requests. */
function workerPid(master: number): number {
  const r = spawnSync("pgrep", ["-P", String(master)], { encoding: "utf8" });
  const pid = Number(r.stdout.trim().split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error("nginx worker not found");
  return pid;
}

/** One worker, keep-alive to each upstream on its own port (the first port proxies the first upstream). */
function nginxConfig(dir: string, upstreams: string[], ports: number[]): string {
  mkdirSync(join(dir, "logs"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const servers = upstreams
    .map(
      (u, i) => `
  upstream up${i} { server ${u}; keepalive 128; }
  server {
    listen 127.0.0.1:${ports[i]};
    location / {
      proxy_pass http://up${i};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }`,
    )
    .join("\n");
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "logs/error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "tmp/body")};
  proxy_temp_path ${join(dir, "tmp/proxy")};
  fastcgi_temp_path ${join(dir, "tmp/fcgi")};
  uwsgi_temp_path ${join(dir, "tmp/uwsgi")};
  scgi_temp_path ${join(dir, "tmp/scgi")};
${servers}
}
`,
  );
  return conf;
}

/** Requests that went through flow control, and those that waited 1 ms or more, from igw's /metrics. */
async function waitedShare(url: string): Promise<{ total: number; waited: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  let quick = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("inference_extension_flow_control_request_queue_duration_seconds")) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.includes("_count{")) total += value;
    else if (line.includes('le="0.001"')) quick += value;
  }
  return { total, waited: total - quick };
}

function formatReport(
  targets: Target[],
  closed: Map<string, Measured>,
  light: Map<string, Measured>,
  room: { targets: Target[]; measured: Map<string, Measured>; waited: number },
  pressureWaited: number,
  streamed: Map<string, { short: Measured; long: Measured }>,
  withPage: Measured,
  load0: number[],
  load1: number[],
): string {
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const direct = closed.get("direct")!;
  const ng = closed.get("nginx")!;
  const ngCpu = median(ng.cpuPerRequest);
  const lines: string[] = [];
  lines.push(
    `Command: \`npm run bench:proxy -- --duration ${DURATION} --rounds ${ROUNDS} --connections ${CONNECTIONS} --room-connections ${ROOM_CONNECTIONS}\`` +
      ` (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}, load average` +
      ` ${f1(load0[0]!)} before, ${f1(load1[0]!)} after). Medians of ${ROUNDS} rounds of ${DURATION} s.`,
  );
  lines.push("");
  lines.push(
    `| target | req/s at ${CONNECTIONS} conns | vs direct | CPU µs/request | vs nginx | p50 / p99 at 1 conn | added p50 |`,
  );
  lines.push("|---|---|---|---|---|---|---|");
  const lightDirect = median(light.get("direct")!.p50);
  const errors: string[] = [];
  for (const t of targets) {
    const m = closed.get(t.name)!;
    const l = light.get(t.name)!;
    const cpu = median(m.cpuPerRequest);
    if (m.errors + l.errors > 0) errors.push(`${t.name}: ${m.errors + l.errors} failed requests`);
    lines.push(
      `| ${t.name} | ${Math.round(median(m.rps))} | ${f2(median(m.rps) / median(direct.rps))} | ` +
        `${t.pid ? f1(cpu) : "—"} | ${t.pid ? `${f2(cpu / ngCpu)}×` : "—"} | ` +
        `${f2(median(l.p50))} / ${f2(median(l.p99))} ms | ${t.name === "direct" ? "—" : `${f2(median(l.p50) - lightDirect)} ms`} |`,
    );
  }
  const pageCpu = median(withPage.cpuPerRequest);
  if (withPage.errors > 0) errors.push(`igw (seed pool), dashboard open: ${withPage.errors} failed requests`);
  lines.push(
    `| igw (seed pool), dashboard open | ${Math.round(median(withPage.rps))} | ${f2(median(withPage.rps) / median(direct.rps))} | ` +
      `${f1(pageCpu)} | ${f2(pageCpu / ngCpu)}× | — | — |`,
  );
  lines.push(
    "",
    `Against the instant engine, ${f1(100 * pressureWaited)}% of the seed pool's requests waited ≥ 1 ms in flow control (its detector counts in-flight work sent since a scrape as queued).`,
    "",
    `Nothing waiting (${ROOM_CONNECTIONS} connections, below the detector's queue threshold; ${f1(100 * room.waited)}% of the seed pool's requests waited ≥ 1 ms):`,
    "",
    `| target | req/s at ${ROOM_CONNECTIONS} conns | vs direct | CPU µs/request | vs nginx |`,
    "|---|---|---|---|---|",
  );
  const roomDirect = room.measured.get("direct")!;
  const roomNginx = median(room.measured.get("nginx")!.cpuPerRequest);
  for (const t of room.targets) {
    const m = room.measured.get(t.name)!;
    const cpu = median(m.cpuPerRequest);
    if (m.errors > 0) errors.push(`${t.name} (${ROOM_CONNECTIONS} connections): ${m.errors} failed requests`);
    lines.push(
      `| ${t.name} | ${Math.round(median(m.rps))} | ${f2(median(m.rps) / median(roomDirect.rps))} | ` +
        `${t.pid ? f1(cpu) : "—"} | ${t.pid ? `${f2(cpu / roomNginx)}×` : "—"} |`,
    );
  }
  lines.push("");
  lines.push("| streaming | CPU µs/request, 8 tokens | 64 tokens | CPU µs per chunk | vs nginx |");
  lines.push("|---|---|---|---|---|");
  const chunk = (name: string) => {
    const s = streamed.get(name)!;
    return (median(s.long.cpuPerRequest) - median(s.short.cpuPerRequest)) / 56;
  };
  const ngChunk = chunk("nginx");
  for (const [name, s] of streamed) {
    if (s.short.errors + s.long.errors > 0)
      errors.push(`${name} (streaming): ${s.short.errors + s.long.errors} failed`);
    lines.push(
      `| ${name} | ${f1(median(s.short.cpuPerRequest))} | ${f1(median(s.long.cpuPerRequest))} | ` +
        `${f2(chunk(name))} | ${f2(chunk(name) / ngChunk)}× |`,
    );
  }
  const seedCpu = median(room.measured.get("igw (seed pool)")!.cpuPerRequest) / roomNginx;
  const plainCpu = median(room.measured.get("igw (plain pool)")!.cpuPerRequest) / roomNginx;
  const seedPressureCpu = median(closed.get("igw (seed pool)")!.cpuPerRequest) / ngCpu;
  const tput = median(closed.get("igw (seed pool)")!.rps) / median(direct.rps);
  const added = median(light.get("igw (seed pool)")!.p50) - lightDirect;
  const chunkRatio = chunk("igw (seed pool)") / ngChunk;
  const verdict = (ok: boolean) => (ok ? "met" : "**not met**");
  lines.push("");
  lines.push("| target (issue 9) | measured | |");
  lines.push("|---|---|---|");
  lines.push(
    `| CPU per request, seed pool ≤ 3.5× nginx (nothing waiting) | ${f2(seedCpu)}× | ${verdict(seedCpu <= 3.5)} |`,
  );
  lines.push(
    `| — the same with requests held by flow control (instant engine) | ${f2(seedPressureCpu)}× | |`,
  );
  lines.push(
    `| CPU per request, plain pool ≤ 2.5× nginx (nothing waiting) | ${f2(plainCpu)}× | ${verdict(plainCpu <= 2.5)} |`,
  );
  lines.push(
    `| throughput ≥ 0.5 of direct at ${CONNECTIONS} concurrent (seed pool) | ${f2(tput)} | ${verdict(tput >= 0.5)} |`,
  );
  lines.push(`| streamed chunk ≤ 1.3× nginx | ${f2(chunkRatio)}× | ${verdict(chunkRatio <= 1.3)} |`);
  lines.push(
    `| added p50 ≤ 0.5 ms below saturation (seed pool) | ${f2(added)} ms | ${verdict(added <= 0.5)} |`,
  );
  const pageRatio = pageCpu / median(closed.get("igw (seed pool)")!.cpuPerRequest);
  lines.push(
    `| CPU per request with the dashboard open ≤ 1.05× closed (issue 14) | ${f2(pageRatio)}× | ${verdict(pageRatio <= 1.05)} |`,
  );
  if (errors.length > 0) lines.push("", `Failed requests: ${errors.join("; ")}.`);
  return lines.join("\n");
}

await main();
