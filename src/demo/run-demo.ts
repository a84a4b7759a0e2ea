/**
 * `igw demo`: the seed's experiment on this machine. Five simulated A10 servers started with the
 * seed's vLLM arguments, the gateway on the seed's manifests, the seed's two benchmark commands at
 * once; then the same load through plain round robin, the Critical class alone, and (on request)
 * the same load with engine priority, Standard started first. Prints the
 * vLLM-style reports, one comparison table with the seed's published figures, and writes a chart.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatReport } from "../bench/report.ts";
import { PROFILES } from "../sim/profiles.ts";
import { type ComparisonInput, comparisonMarkdown, formatComparison } from "./comparison.ts";
import { type ClassKey, type ClassResult, classLabel } from "./demo-types.ts";
import { type DataPlane, type DemoContext, type PhaseResult, runPhase } from "./run-phase.ts";
import { readSeedDeployment } from "./seed-deployment.ts";
import { SEED_WORKLOAD } from "./seed-figures.ts";
import { demoSimArgs, SERVED_NAME_FIX } from "./sim-args.ts";
import { writeTtftChart } from "./ttft-chart.ts";

export interface DemoOptions {
  /** Folder with the seed's manifests (vllm-service.yaml + the gateway's). */
  readonly seedDir: string;
  /** Prompts per class (the seed: 300). */
  readonly numPrompts: number;
  /** Simulated clock speed-up. */
  readonly timeScale: number;
  /** Multiplies the seed's prompt/output lengths and the servers' KV blocks together. */
  readonly lengthScale: number;
  readonly outDir: string;
  readonly baseline: boolean;
  readonly criticalAlone: boolean;
  /**
   * An extra phase with engine priority: servers on vLLM's `--scheduling-policy priority`, the
   * pool annotated engine-priority, Standard started ENGINE_PHASE_LEAD_S before Critical.
   */
  readonly enginePriority: boolean;
  readonly seed: number;
  readonly progress: boolean;
  readonly print: (text: string) => void;
  /** Who moves the bytes: `igw serve`, or Envoy (deploy/envoy/envoy.yaml) asking `igw epp`. Default igw. */
  readonly dataPlane?: DataPlane;
  /** The Envoy binary (with `dataPlane: "envoy"`). Default `envoy` on the PATH. */
  readonly envoyBin?: string;
}

const PROFILE = "a10-7b";
/** Seconds the Standard class runs alone before Critical starts in the engine-priority phase. */
export const ENGINE_PHASE_LEAD_S = 1;
/** The seed's `--max-model-len`, scaled with the lengths. */
const SEED_MAX_MODEL_LEN = 8192;

/** Runs the phases, prints the reports and the comparison; returns the comparison input. */
export async function runDemo(o: DemoOptions): Promise<ComparisonInput> {
  const deployment = readSeedDeployment(join(o.seedDir, "vllm-service.yaml"));
  const s = o.lengthScale;
  const lengths = {
    prefixLen: Math.max(1, Math.round(SEED_WORKLOAD.prefixLen * s)),
    inputLen: Math.max(1, Math.round(SEED_WORKLOAD.inputLen * s)),
    outputLen: Math.max(1, Math.round(SEED_WORKLOAD.outputLen * s)),
    rangeRatio: SEED_WORKLOAD.rangeRatio,
  };
  const kvBlocks = Math.max(16, Math.round(PROFILES[PROFILE].numGpuBlocks * s));
  const simArgs = demoSimArgs(deployment.vllmArgs, {
    replicas: deployment.replicas,
    profile: PROFILE,
    timeScale: o.timeScale,
    kvBlocks,
    maxModelLen: Math.ceil(SEED_MAX_MODEL_LEN * s),
  });
  const ctx: DemoContext = {
    simArgs,
    replicas: deployment.replicas,
    labels: deployment.labels,
    manifestDir: o.seedDir,
    numPrompts: o.numPrompts,
    lengths,
    maxConcurrency: SEED_WORKLOAD.maxConcurrency,
    seed: o.seed,
    progress: o.progress,
    log: (l) => o.print(`${l}\n`),
    dataPlane: o.dataPlane ?? "igw",
    envoyBin: o.envoyBin ?? "envoy",
  };
  o.print(
    [
      `igw demo: the seed's experiment, ${deployment.replicas} simulated servers (${PROFILE}), time scale ${o.timeScale}`,
      `  servers: igw sim ${simArgs.join(" ")}`,
      ctx.dataPlane === "envoy"
        ? `  gateway: Envoy (deploy/envoy/envoy.yaml, ${ctx.envoyBin}) asking igw epp -f ${o.seedDir} (the seed's manifests, unchanged; pool annotated experimental-use-queueing)`
        : `  gateway: igw serve -f ${o.seedDir} (the seed's manifests, unchanged; pool annotated experimental-use-queueing)`,
      `  load:    qwen (Critical) and travel-helper (Standard) at once, ${SEED_WORKLOAD.maxConcurrency} concurrent each, ` +
        `${o.numPrompts} prompts each; prefix ${lengths.prefixLen}, input ${lengths.inputLen}, output ${lengths.outputLen}, ` +
        `range ${lengths.rangeRatio}`,
      `  scaling: lengths, --max-model-len and KV blocks (${kvBlocks} per server) × ${s} of the seed, so servers saturate as in the seed`,
      `  fix:     the seed serves "${SERVED_NAME_FIX.servedAs}" but its InferenceModel targets "${SERVED_NAME_FIX.alias}"; ` +
        `the servers also answer to "${SERVED_NAME_FIX.alias}" (--served-model-name ${SERVED_NAME_FIX.servedAs} ${SERVED_NAME_FIX.alias})`,
      "",
    ].join("\n"),
  );

  const phases: PhaseResult[] = [];
  const phase = async (
    label: string,
    front: "gateway" | "round-robin",
    classes: ClassKey[],
    engine: { enginePriority?: boolean; criticalDelayS?: number } = {},
  ) => {
    o.print(`--- ${label} ---\n`);
    const r = await runPhase({ label, front, classes, ...engine }, ctx);
    o.print(`    done in ${r.wallS.toFixed(1)} s; CPU: ${formatCpu(r)}\n`);
    phases.push(r);
    return r;
  };
  const queueing = await phase("with the gateway (queueing)", "gateway", ["critical", "standard"]);
  const roundRobin = o.baseline
    ? await phase("round robin, no gateway (baseline)", "round-robin", ["critical", "standard"])
    : undefined;
  const alone = o.criticalAlone
    ? await phase("Critical alone, with the gateway", "gateway", ["critical"])
    : undefined;

  const engine = o.enginePriority
    ? await phase(
        `engine priority (--scheduling-policy priority), Standard ${ENGINE_PHASE_LEAD_S} s first`,
        "gateway",
        ["critical", "standard"],
        { enginePriority: true, criticalDelayS: ENGINE_PHASE_LEAD_S },
      )
    : undefined;
  const engineLine = engine ? engineSummary(both(engine), alone?.classes.critical) : undefined;

  o.print(`\nvLLM-style reports, with the gateway (queueing):\n\n`);
  o.print(
    formatReport(queueing.run, { percentileMetrics: ["ttft", "tpot", "itl"], metricPercentiles: [99] }),
  );
  const input: ComparisonInput = {
    queueing: both(queueing),
    ...(roundRobin && { roundRobin: both(roundRobin) }),
    ...(alone?.classes.critical && { criticalAlone: alone.classes.critical }),
  };
  o.print(`\n${formatComparison(input)}`);
  if (engineLine) o.print(`${engineLine}\n`);
  o.print(
    `Times are the simulator's (lengths × ${s}, time scale ${o.timeScale}); compare ratios and success counts with the seed, not absolute times.\n`,
  );

  mkdirSync(o.outDir, { recursive: true });
  const files = await writeTtftChart(
    phases.map((p) => ({
      phase: p.spec.label,
      classes: Object.values(p.classes).map((c) => ({ label: classLabel(c.key, c.name), points: c.points })),
    })),
    "TTFT per class over time (igw demo)",
    join(o.outDir, "demo-ttft"),
  );
  const summary = join(o.outDir, "demo-summary.md");
  writeFileSync(
    summary,
    [
      `# igw demo (${new Date().toISOString()})`,
      "",
      `Prompts per class ${o.numPrompts}, time scale ${o.timeScale}, length scale ${s}, ${deployment.replicas} × ${PROFILE}.`,
      "",
      comparisonMarkdown(input),
      ...(engineLine ? [engineLine, ""] : []),
      ...phases.map((p) => `- ${p.spec.label}: ${p.wallS.toFixed(1)} s, CPU ${formatCpu(p)}`),
      "",
    ].join("\n"),
  );
  o.print(`Chart: ${files.join(", ")}\nSummary: ${summary}\n`);
  return input;
}

function both(p: PhaseResult): Record<ClassKey, ClassResult> {
  const { critical, standard } = p.classes;
  if (!critical || !standard) throw new Error(`${p.spec.label}: both classes expected`);
  return { critical, standard };
}

/** The engine-priority phase in one line: each class's mean TTFT, Critical against Critical alone when run. */
function engineSummary(e: Record<ClassKey, ClassResult>, alone: ClassResult | undefined): string {
  const vsAlone = alone
    ? ` = ${(e.critical.meanTtftMs / alone.meanTtftMs).toFixed(2)} × Critical alone (target ≤ 1.1)`
    : "";
  return (
    `Engine priority (servers on --scheduling-policy priority, the gateway sends priority; Standard ${ENGINE_PHASE_LEAD_S} s first): ` +
    `Critical mean TTFT ${e.critical.meanTtftMs.toFixed(1)} ms${vsAlone}, Standard ${e.standard.meanTtftMs.toFixed(1)} ms; ` +
    `${e.critical.completed + e.standard.completed}/${e.critical.numPrompts + e.standard.numPrompts} succeeded`
  );
}

function formatCpu(p: PhaseResult): string {
  return p.cpu
    .map((c) => `${c.name} ${c.cores === undefined ? "n/a" : `${c.cores.toFixed(2)} cores`}`)
    .join(", ");
}
