/**
 * The priority family on one virtual clock (`npm run bench:priority-virtual`): the gateway's own
 * FlowController (the seed pool's flow control, the default detector) and scorer profile
 * (expected-ttft over the approximate prefix index) in front of five simulated engines (src/sim's
 * Engine, a10-7b, the cell's KV blocks), driven by closed-loop clients, all on bench/virtual-clock.ts.
 * No process competes for CPU, so the figures measure policy only and repeat exactly per seed; they
 * complement `bench:priority` (real processes, noisy on a loaded machine). Same cells
 * (bench/priority-cells.ts), same three phases (both classes through the gateway, Critical alone,
 * both through round robin with no flow control and no engine priority), the seed's lengths × 0.1
 * (as `igw demo`). Simplified: no HTTP (1 ms each way), no LoRA adapter for Standard, scrapes every
 * 50 ms, the engine clock 2× the gateway's (`--time-scale 2`).
 *
 * Usage: npm run bench:priority-virtual -- [--quick] [--cells=REGEX] [--prompts=N] [--seeds=N] [--first-seed=N]
 *   [--flow-control=JSON] (the pool's flowControl section, e.g. '{"activeKvLimit":0}')
 *   [--cell=NAME:CONCURRENCY|all:KV_BLOCKS[:engine]]... (cells outside the family's five, e.g. neighbours)
 */

import { SEED_WORKLOAD } from "../src/demo/seed-figures.ts";
import { type FlowControlInput, parseFlowControl } from "../src/flowcontrol/config.ts";
import { FlowController } from "../src/flowcontrol/flow-controller.ts";
import { defaultScorerProfiles } from "../src/scheduling/default-profiles.ts";
import { ProfileScheduler } from "../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../src/scheduling/random.ts";
import type { SchedulingRequest } from "../src/scheduling/types.ts";
import { defaultOptions } from "../src/sim/options.ts";
import { Rng } from "../src/sim/rng.ts";
import { CELLS, ENGINE_LEAD_S, type PriorityCell, promptsPerClass } from "./priority-cells.ts";
import { VirtualClock } from "./virtual-clock.ts";
import { gatewayPick, VirtualPool } from "./virtual-pool.ts";

const SERVERS = 5;
/** Engine ms per gateway ms (`igw sim --time-scale 2`, as bench:priority). */
const TIME_SCALE = 2;
const SCRAPE_MS = 50;
/** One way between the gateway and a server. */
const HOP_MS = 1;
const LENGTH_SCALE = 0.1;

type ClassKey = "critical" | "standard";
type Front = "gateway" | "round-robin";

/** Mean TTFT (ms, from the client's send) and completions per class. */
type PhaseResult = Partial<Record<ClassKey, { meanTtftMs: number; completed: number }>>;

/** One phase: fresh engines and front, `classes` as closed-loop clients of `concurrency` each. */
function runVirtualPhase(
  cell: PriorityCell,
  front: Front,
  classes: readonly ClassKey[],
  prompts: number,
  seed: number,
): PhaseResult {
  const clock = new VirtualClock();
  const enginePriority = cell.engine === true && front === "gateway";
  let controller: FlowController | undefined;
  // What `igw sim --profile a10-7b --num-gpu-blocks-override N` runs, without LoRA.
  const pool = new VirtualPool({
    clock,
    options: {
      ...defaultOptions(),
      profile: "a10-7b" as const,
      numGpuBlocksOverride: cell.kvBlocks,
      maxModelLen: Math.ceil(8192 * LENGTH_SCALE),
      schedulingPolicy: cell.engine ? ("priority" as const) : ("fcfs" as const),
      hashSeed: "0",
      seed,
    },
    servers: SERVERS,
    timeScale: TIME_SCALE,
    scrapeMs: SCRAPE_MS,
    hopMs: HOP_MS,
    onScrape: () => controller?.notify(),
  });
  if (front === "gateway")
    controller = new FlowController({
      settings: parseFlowControl(FLOW_CONTROL),
      candidates: () => pool.candidates,
      timers: clock,
      enginePriority,
    });

  const { profile, hooks } = defaultScorerProfiles(seededRng(seed));
  const scheduling = { scheduler: new ProfileScheduler({ profiles: [profile] }), preRequestHooks: hooks };
  let rrNext = 0;
  const pick = (request: SchedulingRequest): number =>
    front === "round-robin" ? rrNext++ % SERVERS : gatewayPick(scheduling, request, pool.candidates);

  const rng = new Rng(seed);
  const token = () => 1000 + rng.int(30_000);
  const prefixLen = Math.round(SEED_WORKLOAD.prefixLen * LENGTH_SCALE);
  const prefixes = {
    critical: Array.from({ length: prefixLen }, token),
    standard: Array.from({ length: prefixLen }, token),
  };
  const ranged = (n: number) =>
    Math.max(
      1,
      Math.round(
        n * LENGTH_SCALE * (1 - SEED_WORKLOAD.rangeRatio + 2 * SEED_WORKLOAD.rangeRatio * rng.next()),
      ),
    );
  const ttfts: Record<ClassKey, number[]> = { critical: [], standard: [] };
  const left: Record<ClassKey, number> = { critical: prompts, standard: prompts };
  const completed: Record<ClassKey, number> = { critical: 0, standard: 0 };
  let nextId = 0;

  const send = (cls: ClassKey): void => {
    if (left[cls] === 0) return;
    left[cls]--;
    const sentAt = clock.now();
    const priority = cls === "critical" ? 1 : 0;
    const prompt = [...prefixes[cls], ...Array.from({ length: ranged(SEED_WORKLOAD.inputLen) }, token)];
    const maxTokens = ranged(SEED_WORKLOAD.outputLen);
    const id = `${cls}-${nextId++}`;
    const dispatch = (): void => {
      const i = pick({
        requestId: id,
        targetModel: cls,
        isAdapter: false,
        priority,
        prefixText: prompt.map((t) => `w${t}`).join(" "),
        promptTokens: prompt.length,
        maxTokens,
        headers: {},
      });
      pool.send(
        i,
        { id, prompt, maxTokens, priority: enginePriority ? -priority : 0 },
        {
          onFirstToken: () => ttfts[cls].push(clock.now() - sentAt),
          onDone: () => {
            completed[cls]++;
            controller?.notify(priority);
            send(cls);
          },
        },
      );
    };
    if (controller === undefined) {
      dispatch();
      return;
    }
    controller
      .admit({
        id,
        priority,
        flowId: cls,
        bytes: 1000,
        signal: new AbortController().signal,
        onAdmitted: dispatch,
      })
      .catch((e: Error) => {
        throw new Error(`${id} was refused: ${e.message}`);
      });
  };

  const concurrency = cell.concurrency ?? prompts;
  const both = classes.length === 2;
  const lead = cell.engine && both ? ENGINE_LEAD_S * 1000 : 0;
  const start = 100;
  if (lead === 0) {
    // Both classes start together, their clients interleaved (as two benchmark classes do).
    clock.at(start, () => {
      for (let k = 0; k < concurrency; k++) for (const cls of classes) send(cls);
    });
  } else {
    clock.at(start, () => {
      for (let k = 0; k < concurrency; k++) send("standard");
    });
    clock.at(start + lead, () => {
      for (let k = 0; k < concurrency; k++) send("critical");
    });
  }
  clock.run(() => classes.every((cls) => completed[cls] === prompts), 3_600_000);
  controller?.close();
  const out: PhaseResult = {};
  for (const cls of classes) {
    const t = ttfts[cls];
    out[cls] = { meanTtftMs: t.reduce((a, b) => a + b, 0) / t.length, completed: completed[cls] };
  }
  return out;
}

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const FLOW_CONTROL: FlowControlInput = JSON.parse(flag("flow-control") ?? "{}");
/** `--cell=NAME:CONCURRENCY|all:KV_BLOCKS[:engine]`, repeatable. */
const extraCells: PriorityCell[] = process.argv
  .filter((a) => a.startsWith("--cell="))
  .map((a) => {
    const [name, concurrency, kv, engine] = a.slice("--cell=".length).split(":");
    if (!name || !concurrency || !kv || (engine !== undefined && engine !== "engine"))
      throw new Error(`${a}: expected --cell=NAME:CONCURRENCY|all:KV_BLOCKS[:engine]`);
    return {
      name,
      concurrency: concurrency === "all" ? null : Number(concurrency),
      kvBlocks: Number(kv),
      ...(engine === "engine" && { engine: true }),
    };
  });
const quick = process.argv.includes("--quick");
const re = flag("cells") ? new RegExp(flag("cells")!) : null;
const seeds = Number(flag("seeds") ?? 2);
const firstSeed = Number(flag("first-seed") ?? 1);
const f2 = (x: number) => x.toFixed(2);

console.log(
  `## bench:priority-virtual (${SERVERS} × a10-7b on one virtual clock, engine time-scale ${TIME_SCALE}, lengths × ${LENGTH_SCALE}; ${seeds} seed(s) from ${firstSeed}, means over seeds; Node ${process.version})\n`,
);
console.log(`Command: npm run bench:priority-virtual -- ${process.argv.slice(2).join(" ")}`.trimEnd());
console.log(
  "\n| cell | concurrency, KV blocks | prompts | gateway Critical TTFT ms | gateway Standard | Critical alone | RR Critical | RR Standard | Critical / alone | Critical / Standard | Standard / RR Standard | RR Critical / gateway Critical | succeeded |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
// The family's cells matching --cells (none when only --cell is given), then the --cell ones.
const named = extraCells.length > 0 && re === null ? [] : CELLS.filter((c) => re === null || re.test(c.name));
for (const cell of [...named, ...extraCells]) {
  const prompts = promptsPerClass(
    cell.concurrency,
    quick,
    flag("prompts") === undefined ? undefined : Number(flag("prompts")),
  );
  const sums = [0, 0, 0, 0, 0];
  let done = 0;
  for (let s = firstSeed; s < firstSeed + seeds; s++) {
    const g = runVirtualPhase(cell, "gateway", ["critical", "standard"], prompts, s);
    const a = runVirtualPhase(cell, "gateway", ["critical"], prompts, s);
    const r = runVirtualPhase(cell, "round-robin", ["critical", "standard"], prompts, s);
    const vals = [g.critical!, g.standard!, a.critical!, r.critical!, r.standard!];
    vals.forEach((v, i) => {
      sums[i]! += v.meanTtftMs / seeds;
    });
    done += g.critical!.completed + g.standard!.completed;
  }
  const [gc, gs, ac, rc, rs] = sums as [number, number, number, number, number];
  console.log(
    `| ${cell.name}${cell.engine ? ` (engine priority, Standard ${ENGINE_LEAD_S} s first)` : ""} | ${cell.concurrency ?? "all"} + ${cell.concurrency ?? "all"}, ${cell.kvBlocks} | ${prompts} + ${prompts} | ${gc.toFixed(0)} | ${gs.toFixed(0)} | ${ac.toFixed(0)} | ${rc.toFixed(0)} | ${rs.toFixed(0)} | ` +
      `${f2(gc / ac)} | ${f2(gc / gs)} | ${f2(gs / rs)} | ${f2(rc / gc)} | ${done}/${2 * prompts * seeds} |`,
  );
}
