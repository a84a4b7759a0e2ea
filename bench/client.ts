/**
 * Capacity of `igw bench`'s streaming client (the issue asks for >= 2,000 streamed requests/s and
 * >= 100,000 streamed tokens/s against `igw sim --profile instant`).
 *
 *   npm run bench:client [-- --requests 6000 --token-requests 120 --tokens 2000 --concurrency 64]
 *
 * Runs `runBenchmark` in this process against (1) `igw sim --profile instant` and (2) a minimal
 * pre-rendered SSE server (bench/sse-blast-server.ts), each in its own child process, with two
 * workloads: many short streams (4 tokens) and few long ones. Reports achieved requests/s and
 * tokens/s, and this process's CPU time per request and per token, whose inverse is the client's
 * ceiling on one core whatever the server manages. Server and client share the machine's cores.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchConfig, defaultBenchConfig, type TrafficClass } from "../src/bench/config.ts";
import { runBenchmark } from "../src/bench/run-benchmark.ts";
import { startSimProcess } from "../test/helpers/sim-process.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "6000" },
    "token-requests": { type: "string", default: "120" },
    tokens: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "64" },
  },
});

async function startBlast(): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "sse-blast-server.ts")],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      const m = /listening (\S+)/.exec(c.toString());
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`blast server exited ${code}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

function config(url: string, numPrompts: number, outputLen: number): BenchConfig {
  const cls: TrafficClass = {
    name: "m",
    model: "m",
    numPrompts,
    inputLen: 8,
    outputLen,
    prefixLen: 0,
    rangeRatio: 0,
    requestRate: Number.POSITIVE_INFINITY,
    burstiness: 1,
    maxConcurrency: Number(args.concurrency),
    headers: {},
    seed: 0,
  };
  return defaultBenchConfig(url, [cls], {
    requestIdPrefix: "b-",
    requestTimeoutS: 600,
    alignPrompts: false,
    log: () => {},
  });
}

async function measure(server: string, url: string, workload: string, numPrompts: number, outputLen: number) {
  await runBenchmark(config(url, Math.min(200, numPrompts), outputLen)); // warm-up (JIT, connections)
  const cpu0 = process.cpuUsage();
  const run = await runBenchmark(config(url, numPrompts, outputLen));
  const cpu = process.cpuUsage(cpu0);
  const m = run.aggregate.metrics;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const d = run.aggregate.durationS;
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log(
    `| ${server} | ${workload} | ${m.completed}/${numPrompts} | ${fmt(m.completed / d)} | ${fmt(m.totalOutput / d)} | ` +
      `${Math.round((100 * cpuS) / d)}% | ${((cpuS / m.completed) * 1e6).toFixed(1)} µs → ${fmt(m.completed / cpuS)}/s | ` +
      `${((cpuS / m.totalOutput) * 1e6).toFixed(2)} µs → ${fmt(m.totalOutput / cpuS)}/s |`,
  );
}

const requests = Number(args.requests);
const tokenRequests = Number(args["token-requests"]);
const tokens = Number(args.tokens);
console.log(`Node ${process.version}, concurrency ${args.concurrency}, ${new Date().toISOString()}`);
console.log(
  "| server | workload | ok/sent | requests/s | tokens/s | client CPU (of one core) | client CPU per request → ceiling | per token → ceiling |",
);
console.log("|---|---|---|---|---|---|---|---|");
const sim = await startSimProcess([
  "--model",
  "m",
  "--profile",
  "instant",
  "--max-model-len",
  String(tokens + 64),
]);
try {
  await measure("igw sim instant", sim.urls[0]!, "short streams (4 tokens)", requests, 4);
  await measure("igw sim instant", sim.urls[0]!, `long streams (${tokens} tokens)`, tokenRequests, tokens);
} finally {
  await sim.stop();
}
const blast = await startBlast();
try {
  await measure("pre-rendered SSE", blast.url, "short streams (4 tokens)", requests, 4);
  await measure("pre-rendered SSE", blast.url, `long streams (${tokens} tokens)`, tokenRequests, tokens);
} finally {
  blast.stop();
}
