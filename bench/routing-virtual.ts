/**
 * The prefix family on one virtual clock (`npm run bench:routing-virtual`): bench:routing's cells
 * (bench/routing/cells.ts: same KV sizes, prompts, groups, burst and Poisson arrivals, h100-8b, five
 * replicas, seed 7, `--time-scale 0.25`) and the same client workload (each group's prompts and send
 * offsets from its seeds, as runBenchmark draws them; closed loop at each group's concurrency; the
 * client's ready-check request first), with the gateway's own schedulers in front of src/sim
 * engines on bench/virtual-clock.ts (bench/virtual-pool.ts). No process competes for CPU, so the
 * figures measure routing only and repeat exactly per seed; HTTP and the gateway's CPU cost are not
 * modelled (1 ms each way, scrapes every 50 ms). Targets:
 * - `round-robin`: each request to the next replica (a plain Service);
 * - `igw scorer`: the scorer profile as `igw serve` builds it (the expected-TTFT cost model over the
 *   approximate prefix index; the gateway's own prompt-token estimate);
 * - `igw precise`: the cost model over precise-prefix-cache-scorer, its tracker fed each engine
 *   step's KV-event batch (msgpack-encoded and decoded, as `igw sim` publishes it; no ZMQ) 1 ms
 *   after the step, on the virtual clock.
 * Tables: bench/routing/report.ts (against round robin; no peer routers here).
 *
 * Usage: npm run bench:routing-virtual -- [--cells=REGEX] [--seeds=1,2] [--scale=X] [--targets=a,b]
 *          [--time-scale=X] [--json=FILE]
 *   --time-scale  engine ms per clock ms (default 0.25, as bench:routing; 1 = the engine's seconds
 *                 are the gateway's, as with a real server)
 */
import { writeFileSync } from "node:fs";
import { classSamples } from "../src/bench/class-samples.ts";
import { simTokenIds } from "../src/kvcache/sim-token-ids.ts";
import { estimateTokens } from "../src/requestcontrol/request-facts.ts";
import { costModelProfile, defaultScorerProfiles } from "../src/scheduling/default-profiles.ts";
import { ProfileScheduler } from "../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../src/scheduling/random.ts";
import type { SchedulingRequest } from "../src/scheduling/types.ts";
import { defaultOptions } from "../src/sim/options.ts";
import {
  BLOCK_SIZE,
  type Cell,
  cellClasses,
  GRID,
  kvBlocks,
  maxModelLen,
  PROFILE,
  REPLICAS,
  scaleRequests,
  shareableFraction,
} from "./routing/cells.ts";
import { type CellRun, cellTable, engineTable, type PhaseResult, summary } from "./routing/report.ts";
import { VirtualClock } from "./virtual-clock.ts";
import { gatewayPick, VirtualPool, virtualPreciseScorer } from "./virtual-pool.ts";

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** Engine ms per clock ms: bench:routing's `igw sim --time-scale 0.25` unless --time-scale says. */
const TIME_SCALE = Number(flag("time-scale") ?? 0.25);
const SCRAPE_MS = 50;
const HOP_MS = 1;
/** bench:routing's `igw sim --seed 7`. */
const SIM_SEED = 7;

const TARGETS = ["round-robin", "igw scorer", "igw precise"] as const;
type TargetName = (typeof TARGETS)[number];

/** Picks a replica per request: a gateway scheduler, or round robin. */
type Pick = (request: SchedulingRequest) => number;

/** The cost model over the precise index, fed the pool's KV events. */
function precisePick(pool: VirtualPool, clock: VirtualClock, seed: number): Pick {
  const precise = virtualPreciseScorer(pool, clock);
  const { profile, hooks } = costModelProfile("default", precise, seededRng(seed));
  const scheduling = { scheduler: new ProfileScheduler({ profiles: [profile] }), preRequestHooks: hooks };
  return (r) => gatewayPick(scheduling, r, pool.candidates);
}

/** One target over fresh engines: the cell's workload from t0, after the client's ready check. */
function runTarget(c: Cell, seed: number, target: TargetName): PhaseResult {
  const clock = new VirtualClock();
  const pool = new VirtualPool({
    clock,
    options: {
      ...defaultOptions(),
      profile: PROFILE,
      blockSize: BLOCK_SIZE,
      numGpuBlocksOverride: kvBlocks(c),
      maxModelLen: maxModelLen(c),
      seed: SIM_SEED,
      hashSeed: "0",
    },
    servers: REPLICAS,
    timeScale: TIME_SCALE,
    scrapeMs: SCRAPE_MS,
    hopMs: HOP_MS,
    kvEvents: target === "igw precise",
  });
  let pick: Pick;
  if (target === "round-robin") {
    let next = 0;
    pick = () => next++ % REPLICAS;
  } else if (target === "igw scorer") {
    const { profile, loraProfile, handler, hooks } = defaultScorerProfiles(seededRng(seed));
    const scheduler = new ProfileScheduler({ profiles: [profile, loraProfile], handler });
    pick = (r) => gatewayPick({ scheduler, preRequestHooks: hooks }, r, pool.candidates);
  } else pick = precisePick(pool, clock, seed);

  const classes = cellClasses(c, seed, TIME_SCALE).map((cls) => ({ cls, ...classSamples(cls) }));
  const ttfts: number[] = [];
  let outputTokens = 0;
  let done = 0;
  let lastDone = 0;
  let nextId = 0;
  const total = classes.reduce((n, k) => n + k.samples.length, 0);
  const send = (prompt: string, maxTokens: number, onDone: (ttftMs: number) => void): void => {
    const id = `routing-${nextId++}`;
    const sentAt = clock.now();
    let ttft = Number.NaN;
    const i = pick({
      requestId: id,
      targetModel: "m",
      isAdapter: false,
      priority: 1,
      prefixText: prompt,
      promptTokens: estimateTokens(prompt),
      maxTokens,
      headers: {},
    });
    pool.send(
      i,
      { id, prompt: simTokenIds(prompt), maxTokens, priority: 0 },
      { onFirstToken: () => (ttft = clock.now() - sentAt), onDone: () => onDone(ttft) },
    );
  };

  let t0 = Number.NaN;
  const start = (): void => {
    t0 = clock.now();
    for (const { cls, samples, offsets } of classes) {
      const limit = cls.maxConcurrency ?? Number.POSITIVE_INFINITY;
      let active = 0;
      const due: number[] = [];
      const release = (): void => {
        while (active < limit && due.length > 0) {
          const s = samples[due.shift()!]!;
          active++;
          send(s.prompt, s.outputLen, (ttft) => {
            ttfts.push(ttft);
            outputTokens += s.outputLen;
            done++;
            lastDone = clock.now();
            active--;
            release();
          });
        }
      };
      offsets.forEach((o, k) => {
        clock.at(t0 + o * 1000, () => {
          due.push(k);
          release();
        });
      });
    }
  };
  // runBenchmark's ready check: the first group's first request, alone, before t0.
  const first = classes[0]!.samples[0]!;
  clock.at(0, () => send(first.prompt, first.outputLen, () => clock.nextTurn(start)));
  clock.run(() => done === total, 36_000_000);
  return {
    target,
    meanTtftMs: ttfts.reduce((a, b) => a + b, 0) / ttfts.length,
    p99TtftMs: [...ttfts].sort((a, b) => a - b)[Math.min(ttfts.length - 1, Math.floor(ttfts.length * 0.99))]!,
    outputTokS: outputTokens / ((lastDone - t0) / 1000),
    hitRate: pool.hitRate(),
    failed: 0,
    completed: done,
    requestsPerReplica: pool.finishedPerServer(),
  };
}

const cellRe = flag("cells") ? new RegExp(flag("cells")!) : null;
const scale = Number(flag("scale") ?? 1);
const seeds = (flag("seeds") ?? "1,2").split(",").map(Number);
const wanted = flag("targets")?.split(",");
const targets = TARGETS.filter((t) => wanted === undefined || wanted.includes(t));
if (!targets.includes("round-robin")) targets.unshift("round-robin");
const cells = GRID.filter((c) => cellRe === null || cellRe.test(c.name)).map((c) => scaleRequests(c, scale));
if (cells.length === 0) {
  console.error("bench:routing-virtual: no cell selected (bench:routing --list names them)");
  process.exit(2);
}

const t0 = Date.now();
const runs: CellRun[] = [];
for (const c of cells)
  for (const seed of seeds)
    runs.push({ cell: c, seed, kvBlocks: kvBlocks(c), results: targets.map((t) => runTarget(c, seed, t)) });

console.log(
  `## bench:routing-virtual ${new Date(t0).toISOString()} (${REPLICAS} × ${PROFILE} on one virtual clock, ` +
    `time-scale ${TIME_SCALE}, Node ${process.version}; ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
);
console.log(`Command: npm run bench:routing-virtual -- ${process.argv.slice(2).join(" ")}`.trimEnd());
console.log(
  "\nMean TTFT and output throughput against round robin (TTFT× < 1 is faster, tok/s× > 1 is more):\n",
);
console.log(cellTable(runs, targets));
console.log("\nEngine prefix-cache hit rate and requests finished per replica:\n");
console.log(engineTable(runs, targets));
console.log(
  `\n${summary(
    runs,
    targets.filter((t) => t.startsWith("igw")),
    shareableFraction,
  )}`,
);
const jsonFile = flag("json");
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify({ started: new Date(t0), runs }, null, 2)}\n`);
  console.log(`results: ${jsonFile}`);
}
