/**
 * Routing benchmark (`npm run bench:routing`): a family grid of shared-prefix workloads (and cells
 * with nothing shared), each run against every target in front of fresh `igw sim` replicas (cold
 * caches) with the same client (`runBenchmark`): round robin, `igw serve` (scorer profile, and an
 * EndpointPickerConfig of your choice), vllm-router and sglang-router (cache_aware, round_robin).
 * Cells are in bench/routing/cells.ts, the tables in bench/routing/report.ts.
 *
 * Usage: npm run bench:routing -- [--quick] [--scale=X] [--cells=REGEX] [--seeds=1,2] [--targets=a,b]
 *          [--picker-config=FILE] [--kv-events] [--json=FILE] [--list]
 *   --quick          three cells at a quarter of the requests, seed 1 (a few minutes)
 *   --scale=X        multiplies every cell's request count (default 1; 0.25 with --quick)
 *   --cells=REGEX    only cells whose name matches (see --list)
 *   --targets=...    comma-separated target names (default: all available; peers need
 *                    `npm run testenv -- ensure peers`)
 *   --picker-config  adds target "igw picker-config": the file's EndpointPickerConfig applies to the
 *                    pool; the simulators then publish KV events (`{{kvEventsEndpoints}}` in the file
 *                    becomes the replica -> endpoint mapping; every replica runs PYTHONHASHSEED 0)
 * The priority family (room, moderate, heavy, burst) is `npm run bench:priority` (bench/priority.ts).
 */

import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir, readTools } from "../scripts/testenv/cache.mjs";
import { PEERS, peerVersions } from "../scripts/testenv/peers.mjs";
import { defaultBenchConfig, runBenchmark } from "../src/bench/index.ts";
import { startIgw } from "../src/demo/igw-process.ts";
import {
  BLOCK_SIZE,
  type Cell,
  cellClasses,
  GRID,
  kvBlocks,
  maxModelLen,
  PROFILE,
  QUICK_CELLS,
  REPLICAS,
  scaleRequests,
  shareableFraction,
} from "./routing/cells.ts";
import { type CellRun, cellTable, type PhaseResult, summary } from "./routing/report.ts";
import { igwTarget, peerTarget, readPickerConfig, roundRobinTarget, type Target } from "./routing/targets.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");
/** Simulated time runs at this fraction of real time, so CPU contention on the benchmark machine
 * (client, routers and simulator share it) distorts the simulated latencies less. */
const TIME_SCALE = 0.25;

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const has = (name: string) => process.argv.includes(`--${name}`);

const quick = has("quick");
const cellRe = flag("cells") ? new RegExp(flag("cells")!) : null;
const requestScale = Number(flag("scale") ?? (quick ? 0.25 : 1));
const cells = GRID.filter((c) => (quick ? QUICK_CELLS.includes(c.name) : true))
  .filter((c) => cellRe === null || cellRe.test(c.name))
  .map((c) => scaleRequests(c, requestScale));
const seeds = (flag("seeds") ?? (quick ? "1" : "1,2")).split(",").map(Number);
const pickerFile = flag("picker-config");
const kvEventsOn = has("kv-events") || pickerFile !== undefined;

const tools = readTools() as Record<string, string>;
const versions = peerVersions(cacheDir()) as Record<string, string>;
const allTargets: Target[] = [roundRobinTarget, igwTarget("igw scorer", null)];
if (pickerFile) allTargets.push(igwTarget("igw picker-config", readPickerConfig(pickerFile)));
const missingPeers: string[] = [];
for (const p of PEERS) {
  const launcher = tools[p.name];
  if (launcher === undefined) missingPeers.push(p.name);
  else
    for (const policy of ["cache_aware", "round_robin"])
      allTargets.push(peerTarget(p.name, policy, launcher));
}
const wanted = flag("targets")?.split(",");
const targets = wanted ? allTargets.filter((t) => wanted.includes(t.name)) : allTargets;

if (has("list")) {
  for (const c of GRID)
    console.log(`${c.name.padEnd(32)} ${c.requests} requests, KV ${kvBlocks(c)} blocks/replica`);
  console.log(`\ntargets: ${allTargets.map((t) => t.name).join(", ")}`);
  process.exit(0);
}
if (cells.length === 0 || targets.length === 0) {
  console.error("bench:routing: no cell or no target selected (see --list)");
  process.exit(2);
}
if (missingPeers.length > 0)
  console.error(
    `bench:routing: ${missingPeers.join(", ")} not installed (npm run testenv -- ensure peers); skipped`,
  );

function simArgs(c: Cell): string[] {
  const args = [
    "--model",
    "m",
    "--replicas",
    String(REPLICAS),
    "--profile",
    PROFILE,
    "--block-size",
    String(BLOCK_SIZE),
    "--num-gpu-blocks-override",
    String(kvBlocks(c)),
    "--max-model-len",
    String(maxModelLen(c)),
    "--seed",
    "7",
    "--time-scale",
    String(TIME_SCALE),
    "--port",
    "0",
    "--hash-seed",
    "0",
  ];
  if (kvEventsOn)
    args.push(
      "--kv-events-config",
      JSON.stringify({ enable_kv_cache_events: true, endpoint: "tcp://127.0.0.1:*", buffer_steps: 1000 }),
    );
  return args;
}

/** Hit rate over all replicas and requests finished per replica, from their /metrics. */
async function engineCounters(urls: readonly string[]): Promise<{ hitRate: number; perReplica: number[] }> {
  let hits = 0;
  let queries = 0;
  const perReplica: number[] = [];
  for (const u of urls) {
    const text = await (await fetch(`${u}/metrics`)).text();
    const sum = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce(
        (s, m) => s + Number(m[1]),
        0,
      );
    hits += sum("vllm:prefix_cache_hits_total");
    queries += sum("vllm:prefix_cache_queries_total");
    perReplica.push(sum("vllm:request_success_total"));
  }
  return { hitRate: queries === 0 ? 0 : hits / queries, perReplica };
}

async function phase(c: Cell, seed: number, target: Target): Promise<PhaseResult> {
  const sim = await startIgw("sim", simArgs(c), REPLICAS, MAIN);
  const kvEvents = new Map<string, string>();
  for (const [i, line] of sim.lines.entries()) {
    const ep = / kv-events=(\S+)/.exec(line)?.[1];
    if (ep) kvEvents.set(new URL(sim.urls[i]!).host, ep);
  }
  try {
    const front = await target.start({ simUrls: sim.urls, kvEvents, igwEntry: MAIN });
    try {
      const run = await runBenchmark(
        defaultBenchConfig(front.url, cellClasses(c, seed, TIME_SCALE), {
          multiClass: false,
          readyCheckTimeoutS: 30,
          requestIdPrefix: `routing-${c.name}-${seed}-`,
          requestTimeoutS: 600,
          alignPrompts: false,
          log: () => {},
        }),
      );
      const m = run.aggregate.metrics;
      const engine = await engineCounters(sim.urls);
      return {
        target: target.name,
        meanTtftMs: m.summaries.ttft.mean,
        p99TtftMs: m.summaries.ttft.percentiles.find(([p]) => p === 99)?.[1] ?? Number.NaN,
        outputTokS: m.outputThroughput,
        hitRate: engine.hitRate,
        failed: m.failed,
        completed: m.completed,
        requestsPerReplica: engine.perReplica,
      };
    } finally {
      await front.stop();
    }
  } finally {
    await sim.stop();
  }
}

const started = new Date();
const loadBefore = loadavg();
const runs: CellRun[] = [];
for (const c of cells) {
  for (const seed of seeds) {
    const run: CellRun = { cell: c, seed, kvBlocks: kvBlocks(c), results: [] };
    for (const t of targets) {
      const t0 = Date.now();
      try {
        run.results.push(await phase(c, seed, t));
      } catch (e) {
        console.error(`bench:routing: ${c.name} seed ${seed} ${t.name}: ${(e as Error).message}`);
        continue;
      }
      const r = run.results.at(-1)!;
      console.error(
        `${c.name} seed ${seed} ${t.name}: TTFT ${r.meanTtftMs.toFixed(0)} ms, ${r.outputTokS.toFixed(0)} tok/s, ` +
          `hit ${r.hitRate.toFixed(2)}, failed ${r.failed} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    runs.push(run);
  }
}
const loadAfter = loadavg();

const igwVersion = (await import("../package.json", { with: { type: "json" } })).default.version;
const peerList = PEERS.filter((p) => versions[p.name]).map((p) => `${p.name} ${versions[p.name]}`);
console.log(
  `\n## bench:routing ${started.toISOString()} (${REPLICAS} × ${PROFILE}, time-scale ${TIME_SCALE}, ` +
    `Node ${process.version}, igw ${igwVersion}${peerList.length ? `, ${peerList.join(", ")}` : ""})\n`,
);
console.log(`Command: npm run bench:routing -- ${process.argv.slice(2).join(" ")}`.trimEnd());
console.log(
  `Load average (1/5/15 min): before ${loadBefore.map((x) => x.toFixed(1)).join(" / ")}, after ${loadAfter
    .map((x) => x.toFixed(1))
    .join(" / ")}\n`,
);
console.log(
  "Mean TTFT and output throughput against round robin (TTFT× < 1 is faster, tok/s× > 1 is more):\n",
);
console.log(
  cellTable(
    runs,
    targets.map((t) => t.name),
  ),
);
console.log(
  `\n${summary(
    runs,
    targets.filter((t) => t.name.startsWith("igw")).map((t) => t.name),
    shareableFraction,
  )}`,
);
const jsonFile = flag("json");
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify({ started, loadBefore, loadAfter, versions, runs }, null, 2)}\n`);
  console.log(`results: ${jsonFile}`);
}
