/**
 * The demo's verdict (pure): one comparison table — this run with queueing, the same load through
 * plain round robin, and the seed's published figures — and the four targets, each PASS or FAIL.
 */
import type { ClassKey, ClassResult } from "./demo-types.ts";
import { SEED_RESULTS } from "./seed-figures.ts";

/** The phases' class results the comparison reads (missing phases show as "—"). */
export interface ComparisonInput {
  readonly queueing: Readonly<Record<ClassKey, ClassResult>>;
  readonly roundRobin?: Readonly<Record<ClassKey, ClassResult>>;
  readonly criticalAlone?: ClassResult;
}

/** One target: what it demands, the measured value, and whether it holds (undefined = not measured). */
export interface TargetCheck {
  readonly name: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

const LABEL: Record<ClassKey, string> = { critical: "qwen (Critical)", standard: "travel-helper (Standard)" };

const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? "—" : v.toFixed(1));
const ok = (c: { completed: number; numPrompts: number } | undefined): string =>
  c ? `${c.completed}/${c.numPrompts}` : "—";

/** The four targets of the issue, checked on the measured runs. */
export function checkTargets(input: ComparisonInput): TargetCheck[] {
  const q = input.queueing;
  const ratio = q.critical.meanTtftMs / q.standard.meanTtftMs;
  const allOk = (["critical", "standard"] as const).every((k) => q[k].completed === q[k].numPrompts);
  const alone = input.criticalAlone;
  const rr = input.roundRobin;
  return [
    {
      name: "Critical mean TTFT ≤ 0.25 × Standard mean TTFT (seed: 0.48)",
      measured: `${ratio.toFixed(3)} ×`,
      pass: ratio <= 0.25,
    },
    {
      name: "every request of both classes succeeds (seed: 97.7% / 55%)",
      measured: `${ok(q.critical)} and ${ok(q.standard)}`,
      pass: allOk,
    },
    {
      name: "Critical mean TTFT under mixed load ≤ 1.5 × Critical alone",
      measured: alone
        ? `${(q.critical.meanTtftMs / alone.meanTtftMs).toFixed(2)} × (${ms(alone.meanTtftMs)} ms alone)`
        : "not run",
      pass: alone ? q.critical.meanTtftMs <= 1.5 * alone.meanTtftMs : undefined,
    },
    {
      name: "Critical mean TTFT ≥ 3 × lower than round robin",
      measured: rr ? `${(rr.critical.meanTtftMs / q.critical.meanTtftMs).toFixed(2)} × lower` : "not run",
      pass: rr ? rr.critical.meanTtftMs >= 3 * q.critical.meanTtftMs : undefined,
    },
  ];
}

/** Rows of the comparison: [label, this run, round robin, seed]. */
export function comparisonRows(input: ComparisonInput): string[][] {
  const rows: string[][] = [];
  for (const key of ["critical", "standard"] as const) {
    const q = input.queueing[key];
    const r = input.roundRobin?.[key];
    const s = SEED_RESULTS[key];
    rows.push([LABEL[key], "", "", ""]);
    rows.push([
      "  Successful requests",
      ok(q),
      ok(r),
      ok({ completed: s.completed, numPrompts: s.numPrompts }),
    ]);
    rows.push(["  Mean TTFT (ms)", ms(q.meanTtftMs), ms(r?.meanTtftMs), ms(s.meanTtftMs)]);
    rows.push(["  Median TTFT (ms)", ms(q.medianTtftMs), ms(r?.medianTtftMs), ms(s.medianTtftMs)]);
    rows.push(["  P99 TTFT (ms)", ms(q.p99TtftMs), ms(r?.p99TtftMs), ms(s.p99TtftMs)]);
    rows.push(["  Mean TPOT (ms)", ms(q.meanTpotMs), ms(r?.meanTpotMs), ms(s.meanTpotMs)]);
    rows.push([
      "  Duration (s)",
      q.durationS.toFixed(1),
      r ? r.durationS.toFixed(1) : "—",
      s.durationS.toFixed(1),
    ]);
  }
  const ratio = (c: ClassResult | undefined, st: ClassResult | undefined) =>
    c && st ? (c.meanTtftMs / st.meanTtftMs).toFixed(3) : "—";
  rows.push([
    "Critical / Standard mean TTFT",
    ratio(input.queueing.critical, input.queueing.standard),
    ratio(input.roundRobin?.critical, input.roundRobin?.standard),
    (SEED_RESULTS.critical.meanTtftMs / SEED_RESULTS.standard.meanTtftMs).toFixed(3),
  ]);
  return rows;
}

const HEADER = ["", "this run (queueing)", "round robin (no gateway)", "seed (ACK, published)"];

/** The comparison and the targets as fixed-width text for the terminal. */
export function formatComparison(input: ComparisonInput): string {
  const rows = [HEADER, ...comparisonRows(input)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : c.padStart(widths[i]!))).join("   ");
  const out = [
    " Comparison ".padStart(40, "=").padEnd(
      widths.reduce((a, b) => a + b + 3, -3),
      "=",
    ),
    ...rows.map(line),
  ];
  out.push("", "Targets:");
  for (const t of checkTargets(input)) {
    const verdict = t.pass === undefined ? "n/a " : t.pass ? "PASS" : "FAIL";
    out.push(`  [${verdict}] ${t.name}: ${t.measured}`);
  }
  return `${out.join("\n")}\n`;
}

/** The same as a Markdown table plus a target list (for docs/benchmarks.md). */
export function comparisonMarkdown(input: ComparisonInput): string {
  const rows = comparisonRows(input).map((r) => `| ${r.map((c) => c.trim() || " ").join(" | ")} |`);
  const targets = checkTargets(input).map(
    (t) => `- ${t.pass === undefined ? "n/a" : t.pass ? "**PASS**" : "**FAIL**"} ${t.name}: ${t.measured}`,
  );
  return [
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map(() => "---").join("|")}|`,
    ...rows,
    "",
    ...targets,
    "",
  ].join("\n");
}
