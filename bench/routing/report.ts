/**
 * Tables and summaries of `npm run bench:routing`: per cell and seed, each target's mean TTFT and
 * output throughput as ratios against round robin and against the better peer router (the lower
 * TTFT, the higher throughput of vllm-router and sglang-router with cache_aware); worst and best cell
 * of every igw target; and the issue's targets checked cell by cell.
 */
import type { Cell } from "./cells.ts";

/** One target's result in one cell and seed. */
export interface PhaseResult {
  target: string;
  meanTtftMs: number;
  p99TtftMs: number;
  outputTokS: number;
  /** Engine prefix-cache hit rate over all replicas (tokens hit / tokens looked up). */
  hitRate: number;
  failed: number;
  completed: number;
  requestsPerReplica: number[];
}

/** All targets of one cell and seed. */
export interface CellRun {
  cell: Cell;
  seed: number;
  kvBlocks: number;
  results: PhaseResult[];
}

const PEERS_CACHE_AWARE = ["vllm-router cache_aware", "sglang-router cache_aware"];

/** Round robin's result, and the better cache_aware peer's TTFT and throughput (either may be absent). */
function baselines(run: CellRun): { rr?: PhaseResult; peerTtft?: number; peerTput?: number } {
  const rr = run.results.find((r) => r.target === "round-robin");
  const peers = run.results.filter((r) => PEERS_CACHE_AWARE.includes(r.target) && r.completed > 0);
  return {
    rr,
    peerTtft: peers.length ? Math.min(...peers.map((p) => p.meanTtftMs)) : undefined,
    peerTput: peers.length ? Math.max(...peers.map((p) => p.outputTokS)) : undefined,
  };
}

/** Round robin thrashes the cell when its hit rate is below half of what an ideal router could reach. */
export function thrashes(run: CellRun, shareable: number): boolean {
  const rr = baselines(run).rr;
  return rr !== undefined && shareable > 0 && rr.hitRate < 0.5 * shareable;
}

const f = (x: number | undefined, d: number) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));

/**
 * The per-cell table: one row per (cell, seed); for each target, TTFT× / throughput× against round
 * robin, then for each igw target the same against the better cache_aware peer.
 */
export function cellTable(runs: readonly CellRun[], targets: readonly string[]): string {
  const others = targets.filter((t) => t !== "round-robin");
  // The columns against the better peer only when some run has a peer's result.
  const anyPeer = runs.some((r) => baselines(r).peerTtft !== undefined);
  const igw = anyPeer ? targets.filter((t) => t.startsWith("igw")) : [];
  const heads = [...others.map((t) => `${t} TTFT× / tok/s×`), ...igw.map((t) => `${t} ÷ better peer`)];
  const lines = [
    `| cell | seed | KV blocks | RR TTFT ms | RR tok/s | RR hit | ${heads.join(" | ")} |`,
    `|---|---|---|---|---|---|${heads.map(() => "---|").join("")}`,
  ];
  for (const run of runs) {
    const { rr } = baselines(run);
    const cells = others.map((t) => {
      const r = run.results.find((x) => x.target === t);
      if (r === undefined || rr === undefined) return "–";
      const fail = r.failed > 0 ? ` (${r.failed} failed)` : "";
      return `${f(r.meanTtftMs / rr.meanTtftMs, 2)} / ${f(r.outputTokS / rr.outputTokS, 2)}${fail}`;
    });
    const { peerTtft, peerTput } = baselines(run);
    for (const t of igw) {
      const r = run.results.find((x) => x.target === t);
      cells.push(
        r === undefined || peerTtft === undefined
          ? "–"
          : `${f(r.meanTtftMs / peerTtft, 2)} / ${f(r.outputTokS / peerTput!, 2)}`,
      );
    }
    lines.push(
      `| ${run.cell.name} | ${run.seed} | ${run.kvBlocks} | ${f(rr?.meanTtftMs, 0)} | ${f(rr?.outputTokS, 0)} | ${f(rr?.hitRate, 2)} | ${cells.join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The engine-side table: one row per (cell, seed); for each target, the engine prefix-cache hit rate
 * and the requests each replica finished (which the benchmark machine's load does not distort).
 */
export function engineTable(runs: readonly CellRun[], targets: readonly string[]): string {
  const lines = [
    `| cell | seed | ${targets.map((t) => `${t} hit, requests per replica`).join(" | ")} |`,
    `|---|---|${targets.map(() => "---|").join("")}`,
  ];
  for (const run of runs) {
    const cells = targets.map((t) => {
      const r = run.results.find((x) => x.target === t);
      return r === undefined ? "–" : `${f(r.hitRate, 2)} [${r.requestsPerReplica.join(",")}]`;
    });
    lines.push(`| ${run.cell.name} | ${run.seed} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** One igw target's ratios in one run: against round robin and against the better peer. */
interface Ratios {
  run: CellRun;
  ttftRr: number;
  tputRr: number;
  ttftPeer: number | undefined;
  tputPeer: number | undefined;
}

function ratios(runs: readonly CellRun[], target: string): Ratios[] {
  const out: Ratios[] = [];
  for (const run of runs) {
    const r = run.results.find((x) => x.target === target);
    const { rr, peerTtft, peerTput } = baselines(run);
    if (r === undefined || rr === undefined) continue;
    out.push({
      run,
      ttftRr: r.meanTtftMs / rr.meanTtftMs,
      tputRr: r.outputTokS / rr.outputTokS,
      ttftPeer: peerTtft === undefined ? undefined : r.meanTtftMs / peerTtft,
      tputPeer: peerTput === undefined ? undefined : r.outputTokS / peerTput,
    });
  }
  return out;
}

/**
 * For each igw target: worst and best cell (by TTFT against round robin), and the issue's targets —
 * thrashing cells TTFT ≤ 0.5× and throughput ≥ 1.2× round robin's, and against the better peer
 * TTFT ≤ 0.8× and throughput ≥ 1.0×; nothing-shared cells throughput ≥ 0.95× and TTFT ≤ 1.15×.
 */
export function summary(
  runs: readonly CellRun[],
  igwTargets: readonly string[],
  shareable: (c: Cell) => number,
): string {
  const lines: string[] = [];
  for (const t of igwTargets) {
    const rs = ratios(runs, t);
    if (rs.length === 0) continue;
    const byTtft = [...rs].sort((a, b) => a.ttftRr - b.ttftRr);
    const show = (x: Ratios) =>
      `${x.run.cell.name} seed ${x.run.seed}: TTFT ${f(x.ttftRr, 2)}×, throughput ${f(x.tputRr, 2)}× round robin` +
      (x.ttftPeer === undefined ? "" : `; ${f(x.ttftPeer, 2)}× / ${f(x.tputPeer, 2)}× the better peer`);
    lines.push(`**${t}**`, "", `- best cell: ${show(byTtft[0]!)}`, `- worst cell: ${show(byTtft.at(-1)!)}`);
    const thrash = rs.filter((x) => thrashes(x.run, shareable(x.run.cell)));
    const closed = thrash.filter((x) => x.run.cell.arrival === "burst");
    const poisson = thrash.filter((x) => x.run.cell.arrival === "poisson");
    const unique = rs.filter((x) => x.run.cell.groups === 0);
    const count = (xs: Ratios[], ok: (x: Ratios) => boolean) => `${xs.filter(ok).length}/${xs.length}`;
    const withPeer = thrash.filter((x) => x.ttftPeer !== undefined);
    lines.push(
      `- thrashing cells (round robin's hit rate < half the shareable fraction): TTFT ≤ 0.5× and throughput ≥ 1.2× in ${count(thrash, (x) => x.ttftRr <= 0.5 && x.tputRr >= 1.2)}`,
      `  - of them closed-loop (burst): ${count(closed, (x) => x.ttftRr <= 0.5 && x.tputRr >= 1.2)}; Poisson, where the cell's arrival rate caps every router's throughput: TTFT ≤ 0.5× in ${count(poisson, (x) => x.ttftRr <= 0.5)}, throughput ≥ 1.2× in ${count(poisson, (x) => x.tputRr >= 1.2)}`,
      ...(withPeer.length === 0
        ? []
        : [
            `- thrashing cells against the better peer: TTFT ≤ 0.8× and throughput ≥ 1.0× in ${count(
              withPeer,
              (x) => x.ttftPeer! <= 0.8 && x.tputPeer! >= 1.0,
            )}`,
          ]),
      `- nothing shared: throughput ≥ 0.95× and TTFT ≤ 1.15× round robin's in ${count(unique, (x) => x.tputRr >= 0.95 && x.ttftRr <= 1.15)}`,
      "",
    );
  }
  return lines.join("\n");
}
