/**
 * Priority benchmark (`npm run bench:priority`): the seed's two classes (qwen = Critical,
 * travel-helper = Standard) at once on five simulated A10s, through the gateway on the seed's
 * manifests, against Critical alone and against round robin, over a family of loads: the pool has
 * room, moderate, heavy overload, and a burst (every request of both classes sent at once). Uses the
 * demo's phases (src/demo/run-phase.ts) with the seed's workload scaled by --length-scale.
 *
 * Usage: npm run bench:priority -- [--quick] [--cells=REGEX] [--prompts=N] [--time-scale=X]
 *          [--length-scale=X] [--seed=N]
 * Targets (issue 12): Critical mean TTFT ≤ 1.2× Critical alone (moderate, heavy), ≤ 1.1× (burst);
 * with room, Standard ≤ 1.5× round robin's Standard; heavy: Critical ≤ 0.25× Standard and ≥ 3×
 * faster than round robin; every request succeeds; with engine priority (servers on vLLM's
 * `--scheduling-policy priority`, the pool annotated engine-priority, Standard started ENGINE_LEAD_S
 * before Critical) Critical ≤ 1.1× alone. The engine cell also runs the gateway without engine
 * priority, reported below the table.
 */
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClassKey, ClassResult } from "../src/demo/demo-types.ts";
import { runPhase } from "../src/demo/run-phase.ts";
import { readSeedDeployment } from "../src/demo/seed-deployment.ts";
import { SEED_WORKLOAD } from "../src/demo/seed-figures.ts";
import { demoSimArgs } from "../src/demo/sim-args.ts";
import { CELLS, ENGINE_LEAD_S, promptsPerClass } from "./priority-cells.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");
const SEED_DIR = join(ROOT, "examples", "seed");

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes("--quick");
const promptsFor = (concurrency: number | null) =>
  promptsPerClass(concurrency, quick, flag("prompts") === undefined ? undefined : Number(flag("prompts")));
const timeScale = Number(flag("time-scale") ?? 2);
const lengthScale = Number(flag("length-scale") ?? 0.1);
const seed = Number(flag("seed") ?? 0);

const re = flag("cells") ? new RegExp(flag("cells")!) : null;
const cells = CELLS.filter((c) => re === null || re.test(c.name));
const deployment = readSeedDeployment(join(SEED_DIR, "vllm-service.yaml"));
const lengths = {
  prefixLen: Math.max(1, Math.round(SEED_WORKLOAD.prefixLen * lengthScale)),
  inputLen: Math.max(1, Math.round(SEED_WORKLOAD.inputLen * lengthScale)),
  outputLen: Math.max(1, Math.round(SEED_WORKLOAD.outputLen * lengthScale)),
  rangeRatio: SEED_WORKLOAD.rangeRatio,
};
/** The seed's --max-model-len, scaled with the lengths (as `igw demo` does). */
const maxModelLen = Math.ceil(8192 * lengthScale);

const started = new Date();
const loadBefore = loadavg();
const rows: string[] = [];
const notes: string[] = [];
for (const c of cells) {
  const prompts = promptsFor(c.concurrency);
  const ctx = {
    simArgs: demoSimArgs(deployment.vllmArgs, {
      replicas: deployment.replicas,
      profile: "a10-7b",
      timeScale,
      kvBlocks: c.kvBlocks,
      maxModelLen,
    }),
    replicas: deployment.replicas,
    labels: deployment.labels,
    manifestDir: SEED_DIR,
    numPrompts: prompts,
    lengths,
    maxConcurrency: c.concurrency ?? prompts,
    seed,
    progress: false,
    log: () => {},
    entry: MAIN,
  };
  const engine = c.engine ? { enginePriority: true, criticalDelayS: ENGINE_LEAD_S } : {};
  const run = async (
    label: string,
    front: "gateway" | "round-robin",
    classes: ClassKey[],
    options: { enginePriority?: boolean; criticalDelayS?: number } = engine,
  ) => {
    const r = await runPhase({ label, front, classes, ...options }, ctx);
    console.error(`${c.name}: ${label} done in ${r.wallS.toFixed(0)} s`);
    return r.classes;
  };
  const both = await run("gateway", "gateway", ["critical", "standard"]);
  const alone = await run("Critical alone", "gateway", ["critical"]);
  const rr = await run("round robin", "round-robin", ["critical", "standard"]);
  if (c.engine) {
    const off = await run("gateway, engine priority off", "gateway", ["critical", "standard"], {
      criticalDelayS: ENGINE_LEAD_S,
    });
    notes.push(
      `${c.name}: without engine priority (same lead) gateway Critical ${off.critical!.meanTtftMs.toFixed(0)} ms ` +
        `(${(off.critical!.meanTtftMs / alone.critical!.meanTtftMs).toFixed(2)}× alone), Standard ${off.standard!.meanTtftMs.toFixed(0)} ms`,
    );
  }
  const [gc, gs, ac, rc, rs] = [
    both.critical,
    both.standard,
    alone.critical,
    rr.critical,
    rr.standard,
  ] as ClassResult[];
  const t = (x: ClassResult) => x.meanTtftMs;
  const okAll = [gc, gs].every((x) => x!.completed === x!.numPrompts);
  const vsAlone = t(gc!) / t(ac!);
  const checks = [
    c.criticalVsAlone
      ? `Critical ≤ ${c.criticalVsAlone}× alone: ${vsAlone <= c.criticalVsAlone ? "met" : "not met"}`
      : "",
    c.name === "room" ? `Standard ≤ 1.5× RR's: ${t(gs!) <= 1.5 * t(rs!) ? "met" : "not met"}` : "",
    c.name === "heavy"
      ? `Critical ≤ 0.25× Standard: ${t(gc!) <= 0.25 * t(gs!) ? "met" : "not met"}; ≥ 3× faster than RR: ${t(rc!) >= 3 * t(gc!) ? "met" : "not met"}`
      : "",
    `all succeed: ${okAll ? "met" : "not met"}`,
  ].filter((x) => x !== "");
  rows.push(
    `| ${c.name}${c.engine ? ` (engine priority, Standard ${ENGINE_LEAD_S} s first)` : ""} | ${c.concurrency ?? "all"} + ${c.concurrency ?? "all"} | ${prompts} + ${prompts} | ${c.kvBlocks} | ${t(gc!).toFixed(0)} | ${t(gs!).toFixed(0)} | ` +
      `${t(ac!).toFixed(0)} | ${t(rc!).toFixed(0)} | ${t(rs!).toFixed(0)} | ${vsAlone.toFixed(2)} | ${(t(gc!) / t(gs!)).toFixed(2)} | ` +
      `${(t(gs!) / t(rs!)).toFixed(2)} | ${(t(rc!) / t(gc!)).toFixed(2)} | ${gc!.completed + gs!.completed}/${gc!.numPrompts + gs!.numPrompts} | ${checks.join("; ")} |`,
  );
}
const loadAfter = loadavg();
console.log(
  `\n## bench:priority ${started.toISOString()} (${deployment.replicas} × a10-7b, time-scale ${timeScale}, length scale ${lengthScale}: ` +
    `prefix ${lengths.prefixLen}, input ${lengths.inputLen}, output ${lengths.outputLen}; Node ${process.version})\n`,
);
console.log(`Command: npm run bench:priority -- ${process.argv.slice(2).join(" ")}`.trimEnd());
console.log(
  `Load average (1/5/15 min): before ${loadBefore.map((x) => x.toFixed(1)).join(" / ")}, after ${loadAfter.map((x) => x.toFixed(1)).join(" / ")}\n`,
);
console.log(
  "| cell | concurrency | prompts | KV blocks | gateway Critical TTFT ms | gateway Standard | Critical alone | RR Critical | RR Standard | Critical / alone | Critical / Standard | Standard / RR Standard | RR Critical / gateway Critical | succeeded | targets |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
for (const n of notes) console.log(`\n${n}`);
