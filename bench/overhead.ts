/**
 * Gateway overhead, measured in one run as gateway vs direct against `igw sim --profile instant`
 * (one replica, serving `qwen`): `igw serve -f bench/overhead-manifests.yaml` (the seed's pool,
 * model and route without the queueing annotation) with an endpoints file listing the sim.
 *
 *   npm run bench:overhead [-- --duration 3 --rounds 3 --concurrency 32 --streams 200 --tokens 32]
 *
 * 1. Non-streaming: `concurrency` closed-loop clients, `rounds` × `duration` s per target,
 *    alternating direct / gateway; latency percentiles and throughput per target.
 *    Then the same at a fixed arrival rate (`rate` req/s, at most `concurrency` in flight), below
 *    saturation, so the added latency is the gateway's own cost rather than queueing behind it.
 * 2. Streaming: one stream at a time, alternating targets; each SSE event is timestamped when
 *    it arrives; the added delay per chunk is the median over chunk positions of
 *    (gateway median arrival − direct median arrival) at that position.
 * The load generator, the gateway and the simulator share this machine's cores.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startGatewayProcess } from "../test/helpers/gateway-process.ts";
import { startSimProcess } from "../test/helpers/sim-process.ts";
import { tempFiles } from "../test/helpers/temp-dir.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    streams: { type: "string", default: "200" },
    tokens: { type: "string", default: "32" },
    rate: { type: "string", default: "500" },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const STREAMS = Number(args.streams);
const TOKENS = Number(args.tokens);
const RATE = Number(args.rate);

/** The seed's pool, model and route without the queueing annotation (see the file's header). */
const MANIFESTS = fileURLToPath(new URL("overhead-manifests.yaml", import.meta.url));
const NON_STREAM_BODY = JSON.stringify({ model: "qwen", prompt: "Hello there", max_tokens: 1 });
const STREAM_BODY = JSON.stringify({
  model: "qwen",
  prompt: "Hello there",
  max_tokens: TOKENS,
  stream: true,
  ignore_eos: true,
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

async function closedLoop(pool: Pool, durationMs: number, latencies: number[]): Promise<number> {
  const end = performance.now() + durationMs;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await pool.request({
        path: "/v1/completions",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: NON_STREAM_BODY,
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      latencies.push(performance.now() - t0);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done;
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Open loop: `rate` requests per second in 5 ms batches, at most CONCURRENCY in flight. */
async function paced(pool: Pool, rate: number, durationMs: number, latencies: number[]): Promise<void> {
  const start = performance.now();
  let started = 0;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  const one = async (): Promise<void> => {
    inFlight++;
    const t0 = performance.now();
    const res = await pool.request({
      path: "/v1/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: NON_STREAM_BODY,
    });
    await res.body.text();
    latencies.push(performance.now() - t0);
    inFlight--;
  };
  while (performance.now() - start < durationMs) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (started < due && inFlight < CONCURRENCY) {
      started++;
      pending.push(one());
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
}

/** Arrival time (ms since request start) of each SSE data event of one stream. */
async function streamOnce(pool: Pool): Promise<number[]> {
  const t0 = performance.now();
  const res = await pool.request({
    path: "/v1/completions",
    method: "POST",
    headers: { "content-type": "application/json" },
    body: STREAM_BODY,
  });
  const arrivals: number[] = [];
  let buf = "";
  for await (const chunk of res.body) {
    const now = performance.now() - t0;
    buf += String(chunk);
    let i = buf.indexOf("\n\n");
    while (i >= 0) {
      if (buf.startsWith("data: {")) arrivals.push(now);
      buf = buf.slice(i + 2);
      i = buf.indexOf("\n\n");
    }
  }
  return arrivals;
}

const sims = await startSimProcess(["--replicas", "1", "--model", "qwen", "--profile", "instant"]);
const files = tempFiles({
  "endpoints.yaml": `endpoints:\n  - address: ${new URL(sims.urls[0]!).host}\n    labels: {app: qwen}\n`,
});
const gw = await startGatewayProcess([
  "-f",
  MANIFESTS,
  "--endpoints",
  files.path("endpoints.yaml"),
  "--log-level",
  "warn",
]);
const targets = { direct: sims.urls[0]!, gateway: gw.url } as const;
type Target = keyof typeof targets;
const pools: Record<Target, Pool> = {
  direct: new Pool(targets.direct, { connections: CONCURRENCY }),
  gateway: new Pool(targets.gateway, { connections: CONCURRENCY }),
};

try {
  // Warm-up (connections, JIT) on both paths.
  for (const t of ["direct", "gateway"] as const) await closedLoop(pools[t], 1000, []);

  const lat: Record<Target, number[]> = { direct: [], gateway: [] };
  const count: Record<Target, number> = { direct: 0, gateway: 0 };
  let gatewayCpu = 0;
  let simCpu = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of r % 2 === 0 ? (["direct", "gateway"] as const) : (["gateway", "direct"] as const)) {
      const g0 = cpuSeconds(gw.child.pid);
      const s0 = cpuSeconds(sims.child.pid);
      count[t] += await closedLoop(pools[t], DURATION_MS, lat[t]);
      if (t === "gateway") {
        gatewayCpu += cpuSeconds(gw.child.pid) - g0;
        simCpu += cpuSeconds(sims.child.pid) - s0;
      }
    }
  }
  const seconds = (ROUNDS * DURATION_MS) / 1000;
  const stats = (t: Target) => {
    const s = [...lat[t]].sort((a, b) => a - b);
    return {
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p99: percentile(s, 99),
      rps: count[t] / seconds,
    };
  };
  const d = stats("direct");
  const g = stats("gateway");

  const pacedLat: Record<Target, number[]> = { direct: [], gateway: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of r % 2 === 0 ? (["direct", "gateway"] as const) : (["gateway", "direct"] as const)) {
      await paced(pools[t], RATE, DURATION_MS, pacedLat[t]);
    }
  }
  const pacedStats = (t: Target) => {
    const s = [...pacedLat[t]].sort((a, b) => a - b);
    return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
  };
  const pd = pacedStats("direct");
  const pg = pacedStats("gateway");

  const arrivals: Record<Target, number[][]> = { direct: [], gateway: [] };
  for (let i = 0; i < STREAMS; i++) {
    for (const t of i % 2 === 0 ? (["direct", "gateway"] as const) : (["gateway", "direct"] as const)) {
      arrivals[t].push(await streamOnce(pools[t]));
    }
  }
  const perPosition = (t: Target, k: number) =>
    median(arrivals[t].map((a) => a[k]!).filter((x) => x !== undefined));
  const positions = Math.min(...arrivals.direct.concat(arrivals.gateway).map((a) => a.length));
  const added = Array.from(
    { length: positions },
    (_, k) => perPosition("gateway", k) - perPosition("direct", k),
  );
  const gaps = (t: Target) => median(arrivals[t].flatMap((a) => a.slice(1).map((x, k) => x - a[k]!)));

  const f = (x: number) => x.toFixed(3);
  console.log(
    `# gateway overhead vs direct (igw sim --profile instant, 1 replica; ${CONCURRENCY} concurrent, ${ROUNDS}x${DURATION_MS / 1000}s per target)`,
  );
  console.log("| non-streaming | p50 ms | p90 ms | p99 ms | req/s |");
  console.log("|---|---|---|---|---|");
  console.log(`| direct | ${f(d.p50)} | ${f(d.p90)} | ${f(d.p99)} | ${d.rps.toFixed(0)} |`);
  console.log(`| gateway | ${f(g.p50)} | ${f(g.p90)} | ${f(g.p99)} | ${g.rps.toFixed(0)} |`);
  console.log(
    `| added | ${f(g.p50 - d.p50)} | ${f(g.p90 - d.p90)} | ${f(g.p99 - d.p99)} | ratio ${(g.rps / d.rps).toFixed(2)} |`,
  );
  console.log(
    `CPU per gateway-path request: gateway process ${((gatewayCpu / count.gateway) * 1e6).toFixed(0)} µs, ` +
      `simulator ${((simCpu / count.gateway) * 1e6).toFixed(0)} µs (the gateway's ceiling on one core: ` +
      `${(count.gateway / gatewayCpu).toFixed(0)} req/s)`,
  );
  console.log("");
  console.log(`| at ${RATE} req/s (below saturation) | p50 ms | p90 ms | p99 ms | |`);
  console.log("|---|---|---|---|---|");
  console.log(`| direct | ${f(pd.p50)} | ${f(pd.p90)} | ${f(pd.p99)} | |`);
  console.log(`| gateway | ${f(pg.p50)} | ${f(pg.p90)} | ${f(pg.p99)} | |`);
  console.log(`| added | ${f(pg.p50 - pd.p50)} | ${f(pg.p90 - pd.p90)} | ${f(pg.p99 - pd.p99)} | |`);
  console.log("");
  console.log(`streaming: ${STREAMS} streams per target, ${positions} events each, one at a time`);
  console.log(
    `  added delay per chunk, median over positions: ${f(median(added))} ms (first chunk ${f(added[0] ?? Number.NaN)} ms, last ${f(added.at(-1) ?? Number.NaN)} ms)`,
  );
  console.log(
    `  median gap between chunks: direct ${f(gaps("direct"))} ms, gateway ${f(gaps("gateway"))} ms`,
  );
} finally {
  await Promise.all([pools.direct.close(), pools.gateway.close()]);
  await gw.stop();
  await sims.stop();
  files.cleanup();
}
