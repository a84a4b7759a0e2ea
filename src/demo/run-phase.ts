/**
 * One phase of the demo: fresh simulated servers, a front (the gateway on the seed's manifests,
 * or the round-robin baseline), the seed's benchmark classes at once, CPU use per process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TrafficClass } from "../bench/config.ts";
import { timelinePoints } from "../bench/request-timeline.ts";
import { runBenchmark } from "../bench/run-benchmark.ts";
import type { BenchmarkRun, ClassRun } from "../bench/run-types.ts";
import { envoyBootstrap } from "../envoy/envoy-bootstrap.ts";
import { startEnvoyProcess } from "../envoy/envoy-process.ts";
import { CpuMeter } from "./cpu-usage.ts";
import type { ClassKey, ClassResult } from "./demo-types.ts";
import { PRIORITY_POLICY_ARGS, writeEnginePriorityManifests } from "./engine-priority-manifests.ts";
import { type IgwProcess, startIgw } from "./igw-process.ts";
import { startRoundRobinProxy } from "./round-robin-proxy.ts";

/** What a phase runs. */
export interface PhaseSpec {
  readonly label: string;
  /** `gateway`: igw on the seed's manifests (queueing on; see DataPlane); `round-robin`: no gateway. */
  readonly front: "gateway" | "round-robin";
  readonly classes: readonly ClassKey[];
  /**
   * Servers run vLLM's `--scheduling-policy priority` and the gateway's pool carries the
   * engine-priority annotation (the gateway sends `priority`); default: the seed's own arguments.
   */
  readonly enginePriority?: boolean;
  /** Seconds after the start at which the Critical class begins (Standard is admitted first); default 0. */
  readonly criticalDelayS?: number;
}

/** Everything phases share. */
export interface DemoContext {
  readonly simArgs: readonly string[];
  readonly replicas: number;
  /** Pod labels the pool selects (from the seed's Deployment). */
  readonly labels: Readonly<Record<string, string>>;
  readonly manifestDir: string;
  readonly numPrompts: number;
  readonly lengths: { prefixLen: number; inputLen: number; outputLen: number; rangeRatio: number };
  readonly maxConcurrency: number;
  readonly seed: number;
  readonly progress: boolean;
  readonly log: (line: string) => void;
  /** The `igw` CLI script for the child processes (default: the running script, as in `igw demo`). */
  readonly entry?: string;
  /** Who moves the bytes in the gateway phases. Default igw. */
  readonly dataPlane?: DataPlane;
  /** The Envoy binary, with dataPlane "envoy". Default `envoy` on the PATH. */
  readonly envoyBin?: string;
}

/** `igw`: igw serve proxies; `envoy`: Envoy from deploy/envoy/envoy.yaml, igw epp as its picker. */
export type DataPlane = "igw" | "envoy";

export interface PhaseResult {
  readonly spec: PhaseSpec;
  readonly run: BenchmarkRun;
  readonly classes: Partial<Record<ClassKey, ClassResult>>;
  /** CPU per process over the benchmark: seconds and cores (1 = one full core). */
  readonly cpu: readonly { name: string; cpuSeconds: number | undefined; cores: number | undefined }[];
  readonly wallS: number;
}

/** Client model names: through the gateway the InferenceModels' names; without it, what the servers serve. */
const MODELS: Record<PhaseSpec["front"], Record<ClassKey, string>> = {
  gateway: { critical: "qwen", standard: "travel-helper" },
  "round-robin": { critical: "qwen", standard: "travel-helper-v1" },
};
const NAMES: Record<ClassKey, string> = { critical: "qwen", standard: "travel-helper" };

/** Runs one phase and stops every process it started, also on failure. */
export async function runPhase(spec: PhaseSpec, ctx: DemoContext): Promise<PhaseResult> {
  const dir = mkdtempSync(join(tmpdir(), "igw-demo-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    const simArgs = spec.enginePriority ? [...ctx.simArgs, ...PRIORITY_POLICY_ARGS] : ctx.simArgs;
    const sim = await startIgw("sim", simArgs, ctx.replicas, ctx.entry);
    stops.push(sim.stop);
    const pids = new Map<string, number>([["simulated servers", sim.pid]]);
    let baseUrl: string;
    const manifests =
      spec.front === "gateway" && spec.enginePriority
        ? writeEnginePriorityManifests(ctx.manifestDir, mkdirFor(dir, "manifests"))
        : ctx.manifestDir;
    if (spec.front === "gateway" && ctx.dataPlane === "envoy") {
      const epp = await startIgw(
        "epp",
        [...configArgs(sim, ctx, dir, manifests), ...EPP_PORTS],
        1,
        ctx.entry,
      );
      stops.push(epp.stop);
      pids.set("endpoint picker", epp.pid);
      const ports = /grpc=(\d+) health=(\d+)/.exec(epp.lines[0]!)!;
      const envoy = await startEnvoyProcess(
        ctx.envoyBin ?? "envoy",
        envoyBootstrap({
          extProcPort: Number(ports[1]),
          healthPort: Number(ports[2]),
          poolEndpoints: sim.urls.map((u) => new URL(u).host),
        }),
      );
      stops.push(envoy.stop);
      pids.set("Envoy", envoy.child.pid!);
      baseUrl = envoy.url;
      ctx.log(`    watch it live: ${epp.urls[0]}/dashboard`);
    } else if (spec.front === "gateway") {
      const gw = await startIgw(
        "serve",
        [...configArgs(sim, ctx, dir, manifests), ...SERVE_PORT],
        1,
        ctx.entry,
      );
      stops.push(gw.stop);
      pids.set("gateway", gw.pid);
      baseUrl = gw.urls[0]!;
      ctx.log(`    watch it live: ${baseUrl}/dashboard`);
    } else {
      const proxy = await startRoundRobinProxy(sim.urls);
      stops.push(proxy.close);
      baseUrl = proxy.url;
    }
    pids.set(
      spec.front === "gateway" ? "benchmark client" : "benchmark client + round-robin proxy",
      process.pid,
    );
    const models = MODELS[spec.front];
    for (const key of spec.classes) await preflight(baseUrl, models[key]);

    const classes: TrafficClass[] = spec.classes.map((key) => ({
      name: NAMES[key],
      model: models[key],
      numPrompts: ctx.numPrompts,
      ...ctx.lengths,
      requestRate: Number.POSITIVE_INFINITY,
      burstiness: 1,
      maxConcurrency: ctx.maxConcurrency,
      headers: {},
      seed: ctx.seed,
      ...(key === "critical" && spec.criticalDelayS ? { startDelayS: spec.criticalDelayS } : {}),
    }));
    const meter = new CpuMeter(pids);
    const started = performance.now();
    const run = await runBenchmark({
      baseUrl,
      endpoint: "/v1/completions",
      backend: "openai",
      classes,
      multiClass: true,
      ignoreEos: true,
      extraBody: {},
      percentiles: [99],
      numWarmups: 0,
      readyCheckTimeoutS: 0,
      requestIdPrefix: `demo-${spec.front}-`,
      requestTimeoutS: 21_600,
      progress: ctx.progress,
      scrapeMetrics: [],
      collectText: false,
      alignPrompts: false,
      log: () => {},
    });
    const wallS = (performance.now() - started) / 1000;
    const cpu = meter.stop();
    const results: Partial<Record<ClassKey, ClassResult>> = {};
    spec.classes.forEach((key, i) => {
      results[key] = classResult(key, run.classes[i]!, run.t0);
    });
    return { spec, run, classes: results, cpu, wallS };
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function mkdirFor(parent: string, name: string): string {
  const path = join(parent, name);
  mkdirSync(path);
  return path;
}

const SERVE_PORT = ["--port", "0", "--host", "127.0.0.1"];
const EPP_PORTS = [
  "--grpc-port",
  "0",
  "--grpc-health-port",
  "0",
  "--metrics-port",
  "0",
  "--host",
  "127.0.0.1",
];

/** `-f` the seed's manifests and `--endpoints` a file listing the servers with the pod labels. */
function configArgs(sim: IgwProcess, ctx: DemoContext, dir: string, manifestDir: string): string[] {
  const labels = Object.entries(ctx.labels)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(", ");
  const file = join(dir, "endpoints.yaml");
  writeFileSync(
    file,
    `endpoints:\n${sim.urls.map((u) => `- address: ${new URL(u).host}\n  labels: {${labels}}\n`).join("")}`,
  );
  return ["-f", manifestDir, "--endpoints", file, "--log-level", "warn"];
}

/** One tiny request per model, so a routing or naming problem fails the demo before any timing. */
async function preflight(baseUrl: string, model: string): Promise<void> {
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: "ping", max_tokens: 1 }),
  });
  if (res.status !== 200)
    throw new Error(`preflight for model "${model}" answered ${res.status}: ${await res.text()}`);
}

function classResult(key: ClassKey, c: ClassRun, t0: number): ClassResult {
  const s = c.metrics.summaries;
  return {
    key,
    name: c.name,
    completed: c.metrics.completed,
    failed: c.metrics.failed,
    numPrompts: c.numPrompts,
    errorsByStatus: c.metrics.errorsByStatus,
    meanTtftMs: s.ttft.mean,
    medianTtftMs: s.ttft.median,
    p99TtftMs: s.ttft.percentiles.find(([p]) => p === 99)?.[1] ?? Number.NaN,
    meanTpotMs: s.tpot.mean,
    durationS: c.durationS,
    points: timelinePoints(c.outputs, t0),
  };
}
