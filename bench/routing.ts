/**
 * Routing benchmark (`npm run bench:routing`): the gateway's scorer profile against a round-robin
 * proxy (what a plain Kubernetes Service does), in front of the same `igw sim` replicas, with the
 * serving benchmark's programmatic API. Each phase gets a fresh simulator process (cold caches).
 *
 *   shared-prefix: 8 groups, each a 2,000-token shared system prompt + 100 unique tokens, 100
 *                  output tokens, 8 concurrent per group (64 in all), 5 `h100-8b` replicas;
 *   mixed-lengths: prompts of 100..1,900 tokens and outputs of 20..380 tokens (no shared
 *                  prefix), Poisson arrivals, 64 concurrent at most.
 *
 * Usage: npm run bench:routing [-- shared-prefix|mixed-lengths] [--kv-blocks=N|profile] (default both, 800).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TrafficClass } from "../src/bench/config.ts";
import { runBenchmark } from "../src/bench/index.ts";
import type { ClassRun } from "../src/bench/run-types.ts";
import { startRoundRobinProxy } from "../src/demo/round-robin-proxy.ts";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli", "main.ts");
const LISTENING = /^igw (?:sim: replica \d+|serve:) listening on (http:\/\/\S+)/;
const REPLICAS = 5;
/** Simulated time runs at this fraction of real time, so CPU contention on the benchmark machine
 * (client, gateway and simulator share it) distorts the simulated latencies less. */
const TIME_SCALE = 0.25;

/**
 * KV cache per replica, in 16-token blocks (`--kv-blocks=N`, default 800 = 12,800 tokens): small
 * enough that 8 prefixes of 2,000 tokens plus the running requests do not all fit on every replica
 * (they do fit when each replica serves a few groups). `--kv-blocks=profile` keeps the h100-8b
 * profile's 29,205 blocks, where every replica can cache all 8 prefixes.
 */
const KV_BLOCKS = process.argv.find((a) => a.startsWith("--kv-blocks="))?.slice(12) ?? "800";

const SIM_ARGS = [
  "--model",
  "m",
  "--replicas",
  String(REPLICAS),
  "--profile",
  "h100-8b",
  ...(KV_BLOCKS === "profile" ? [] : ["--num-gpu-blocks-override", KV_BLOCKS]),
  "--seed",
  "7",
  "--time-scale",
  String(TIME_SCALE),
];

interface Child {
  urls: string[];
  stop(): Promise<void>;
}

async function startIgw(args: readonly string[], count: number): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };
  const urls: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`igw ${args[0]} did not start: ${err}`)), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const m = LISTENING.exec(buf.slice(0, nl));
        if (m) urls.push(m[1]!);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
      if (urls.length >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`igw ${args[0]} exited with ${code}: ${err}`)));
  });
  return { urls, stop };
}

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: pool
  annotations:
    inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"
spec:
  selector: {app: sim}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec: {modelName: m, criticality: Critical, poolRef: {name: pool}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

type Front = "round-robin" | "gateway";

function cls(name: string, seed: number, over: Partial<TrafficClass>): TrafficClass {
  return {
    name,
    model: "m",
    numPrompts: 40,
    inputLen: 100,
    outputLen: 100,
    prefixLen: 0,
    rangeRatio: 0,
    requestRate: Number.POSITIVE_INFINITY,
    burstiness: 1,
    maxConcurrency: 8,
    headers: {},
    seed,
    ...over,
  };
}

const WORKLOADS: Record<string, () => TrafficClass[]> = {
  "shared-prefix": () => Array.from({ length: 8 }, (_, g) => cls(`group-${g}`, 100 + g, { prefixLen: 2000 })),
  "mixed-lengths": () => [
    cls("mixed", 5, {
      numPrompts: 400,
      inputLen: 1000,
      outputLen: 200,
      rangeRatio: 0.9,
      requestRate: 40,
      maxConcurrency: 64,
    }),
  ],
};

/** Per replica: prompt tokens served from the engine's prefix cache / looked up, and requests finished. */
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

interface PhaseResult {
  run: ClassRun;
  engine: { hitRate: number; perReplica: number[] };
}

async function phase(front: Front, classes: TrafficClass[]): Promise<PhaseResult> {
  const sim = await startIgw(["sim", ...SIM_ARGS, "--port", "0"], REPLICAS);
  const dir = mkdtempSync(join(tmpdir(), "igw-routing-"));
  let stopFront: () => Promise<void> = async () => {};
  try {
    let baseUrl: string;
    if (front === "gateway") {
      writeFileSync(join(dir, "gateway.yaml"), MANIFESTS);
      writeFileSync(
        join(dir, "endpoints.yaml"),
        `endpoints:\n${sim.urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: sim}\n`).join("")}`,
      );
      const gw = await startIgw(
        ["serve", "-f", join(dir, "gateway.yaml"), "--endpoints", join(dir, "endpoints.yaml")].concat([
          "--port",
          "0",
          "--host",
          "127.0.0.1",
          "--log-level",
          "warn",
        ]),
        1,
      );
      stopFront = gw.stop;
      baseUrl = gw.urls[0]!;
    } else {
      const rr = await startRoundRobinProxy(sim.urls);
      stopFront = rr.close;
      baseUrl = rr.url;
    }
    const run = await runBenchmark({
      baseUrl,
      endpoint: "/v1/completions",
      backend: "openai",
      classes,
      multiClass: classes.length > 1,
      ignoreEos: true,
      extraBody: {},
      percentiles: [99],
      numWarmups: 0,
      readyCheckTimeoutS: 30,
      requestIdPrefix: `routing-${front}-`,
      requestTimeoutS: 600,
      progress: false,
      scrapeMetrics: [],
      collectText: false,
      alignPrompts: false,
      log: () => {},
    });
    return { run: run.aggregate, engine: await engineCounters(sim.urls) };
  } finally {
    await stopFront();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const p99 = (r: ClassRun, name: "ttft" | "e2el") =>
  r.metrics.summaries[name].percentiles.find(([p]) => p === 99)?.[1] ?? NaN;
const fmt = (x: number, d = 1) => x.toFixed(d);

const chosen = process.argv.slice(2).filter((a) => a in WORKLOADS);
for (const name of chosen.length > 0 ? chosen : Object.keys(WORKLOADS)) {
  const a = await phase("round-robin", WORKLOADS[name]!());
  const b = await phase("gateway", WORKLOADS[name]!());
  const [rr, gw] = [a.run, b.run];
  console.log(
    `\n### ${name} (${REPLICAS} × h100-8b, KV blocks ${KV_BLOCKS}, time-scale ${TIME_SCALE}, ${rr.numPrompts} requests)\n`,
  );
  console.log("| measure | round robin | gateway (scorer profile) | gateway / round robin |");
  console.log("|---|---|---|---|");
  const row = (label: string, x: number, y: number, d = 1) =>
    console.log(`| ${label} | ${fmt(x, d)} | ${fmt(y, d)} | ${fmt(y / x, 2)} |`);
  row("mean TTFT, ms", rr.metrics.summaries.ttft.mean, gw.metrics.summaries.ttft.mean);
  row("P99 TTFT, ms", p99(rr, "ttft"), p99(gw, "ttft"));
  row("mean TPOT, ms", rr.metrics.summaries.tpot.mean, gw.metrics.summaries.tpot.mean, 2);
  row("P99 E2E latency, ms", p99(rr, "e2el"), p99(gw, "e2el"));
  row("output throughput, tok/s", rr.metrics.outputThroughput, gw.metrics.outputThroughput);
  row("run time, s", rr.durationS, gw.durationS, 2);
  row("engine prefix-cache hit rate", a.engine.hitRate, b.engine.hitRate, 3);
  console.log(
    `| requests per replica | ${a.engine.perReplica.join(" / ")} | ${b.engine.perReplica.join(" / ")} | |`,
  );
  console.log(`| failed requests | ${rr.metrics.failed} | ${gw.metrics.failed} | |`);
}
