import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { classOffsets, classSamples } from "./class-samples.ts";
import type { BenchConfig, TrafficClass } from "./config.ts";
import { computeMetrics, type Slo } from "./metrics.ts";
import { buildHeaders, buildPayload } from "./payload.ts";
import { createRng, type Rng } from "./prng.ts";
import { createProgress } from "./progress.ts";
import type { SampleRequest } from "./prompts.ts";
import { pyFloatRepr } from "./python-format.ts";
import type { RequestOutput } from "./request-output.ts";
import type { BenchmarkRun, ClassRun } from "./run-types.ts";
import { startScraper } from "./scrape-metrics.ts";
import { Semaphore } from "./semaphore.ts";
import { type StreamRequest, sendStreamingRequest } from "./sse-client.ts";
import { alignPromptsToServer } from "./tokenize-align.ts";

interface PreparedClass {
  cls: TrafficClass;
  requests: StreamRequest[];
  offsets: number[];
}

function pickModels(c: TrafficClass, n: number, rng: Rng): string[] {
  const lora = c.loraModules;
  if (!lora || lora.length === 0) return Array.from({ length: n }, () => c.model);
  if (c.loraAssignment === "round-robin") return Array.from({ length: n }, (_, i) => lora[i % lora.length]!);
  return Array.from({ length: n }, () => lora[rng.int(0, lora.length - 1)]!);
}

async function prepareClass(config: BenchConfig, c: TrafficClass, index: number, log: (l: string) => void) {
  let samples: SampleRequest[] = classSamples(c).samples;
  if (config.alignPrompts) samples = await alignPromptsToServer(config.baseUrl, c.model, samples, log);
  const models = pickModels(c, samples.length, createRng(c.seed + 1));
  const idPrefix = config.multiClass ? `${config.requestIdPrefix}${c.name}-` : config.requestIdPrefix;
  const requests = samples.map(
    (s, i): StreamRequest => ({
      path: config.endpoint,
      body: buildPayload({
        backend: config.backend,
        model: models[i]!,
        prompt: s.prompt,
        maxTokens: s.outputLen,
        ignoreEos: config.ignoreEos,
        extraBody: config.extraBody,
        ...(c.priority !== undefined ? { priority: c.priority } : {}),
      }),
      headers: buildHeaders(c.headers, `${idPrefix}${i}`),
      promptLen: s.promptLen,
      classIndex: index,
      collectText: config.collectText,
      timeoutMs: config.requestTimeoutS * 1000,
    }),
  );
  const offsets = classOffsets(c, requests.length);
  return { cls: c, requests, offsets };
}

function sloActive(slo: Slo | undefined): boolean {
  return slo !== undefined && Object.keys(slo).length > 0;
}

/** Sends one class's requests on its arrival schedule under its semaphore; resolves with its outputs. */
async function runClass(
  config: BenchConfig,
  pool: Pool,
  p: PreparedClass,
  t0: number,
  onDone: () => void,
): Promise<{ outputs: RequestOutput[]; endMs: number }> {
  const sem = new Semaphore(p.cls.maxConcurrency);
  const deadline = config.durationS !== undefined ? t0 + config.durationS * 1000 : Number.POSITIVE_INFINITY;
  const tasks: Array<Promise<RequestOutput | undefined>> = [];
  const launch = async (req: StreamRequest): Promise<RequestOutput | undefined> => {
    const arrival = performance.now();
    await sem.acquire();
    if (performance.now() >= deadline) {
      sem.release();
      return undefined;
    }
    const out = await sendStreamingRequest(pool, config.baseUrl, req);
    sem.release();
    out.clientQueueTime = out.startTime - arrival / 1000;
    onDone();
    return out;
  };
  const start = t0 + (p.cls.startDelayS ?? 0) * 1000;
  for (let i = 0; i < p.requests.length; i++) {
    const due = start + p.offsets[i]! * 1000;
    if (due >= deadline) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    tasks.push(launch(p.requests[i]!));
  }
  const outputs = (await Promise.all(tasks)).filter((o): o is RequestOutput => o !== undefined);
  return { outputs, endMs: performance.now() };
}

function logTraffic(c: TrafficClass, log: (l: string) => void, prefix: string) {
  const distribution = c.burstiness === 1 ? "Poisson process" : "Gamma distribution";
  log(`${prefix}Traffic request rate: ${pyFloatRepr(c.requestRate)}`);
  log(`${prefix}Burstiness factor: ${pyFloatRepr(c.burstiness)} (${distribution})`);
  log(`${prefix}Maximum request concurrency: ${c.maxConcurrency ?? "None"}`);
}

async function readyCheck(config: BenchConfig, pool: Pool, req: StreamRequest, log: (l: string) => void) {
  log("Starting initial single prompt test run...");
  if (config.readyCheckTimeoutS <= 0) {
    log("Skipping endpoint ready check.");
    return;
  }
  const until = performance.now() + config.readyCheckTimeoutS * 1000;
  for (;;) {
    const out = await sendStreamingRequest(pool, config.baseUrl, req);
    if (out.success) {
      log("Initial test run completed.");
      return;
    }
    if (performance.now() >= until) {
      throw new Error(
        `Initial test run failed - Please make sure benchmark arguments are correctly specified. Error: ${out.error}`,
      );
    }
    await sleep(1000);
  }
}

/**
 * Runs a benchmark: builds each class's prompts and arrival times, checks readiness, warms up, then
 * runs all classes at once from one start time t0, each with its own concurrency limit. Returns the
 * per-class results and the aggregate (vLLM's metrics, ready for `formatReport` / `buildResultJson`).
 * Rejects only on bad configuration or a failed ready check; request failures are counted.
 */
export async function runBenchmark(config: BenchConfig): Promise<BenchmarkRun> {
  const log = config.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  if (config.classes.length === 0) throw new Error("runBenchmark: no traffic classes");
  const names = new Set(config.classes.map((c) => c.name));
  if (names.size !== config.classes.length) throw new Error("runBenchmark: class names must be unique");
  const limits = config.classes.map((c) => c.maxConcurrency);
  const connections = limits.every((l) => l !== null) ? limits.reduce((a, b) => a + (b ?? 0), 0) : null;
  const pool = new Pool(config.baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    const prepared: PreparedClass[] = [];
    for (const [i, c] of config.classes.entries()) prepared.push(await prepareClass(config, c, i, log));
    const first = prepared[0]!.requests[0];
    if (first) await readyCheck(config, pool, first, log);
    if (config.numWarmups > 0) {
      log(`Warming up with ${config.numWarmups} requests...`);
      for (const p of prepared) {
        const req = p.requests[0];
        if (!req) continue;
        const sem = new Semaphore(p.cls.maxConcurrency);
        await Promise.all(
          Array.from({ length: config.numWarmups }, async () => {
            await sem.acquire();
            await sendStreamingRequest(pool, config.baseUrl, req);
            sem.release();
          }),
        );
      }
      log("Warmup run completed.");
    }
    log("Starting main benchmark run...");
    for (const p of prepared) logTraffic(p.cls, log, config.multiClass ? `[${p.cls.name}] ` : "");
    const progress = createProgress(
      config.progress,
      prepared.map((p) => ({ name: p.cls.name, total: p.requests.length })),
    );
    const startedAt = new Date();
    const t0 = performance.now();
    const scraper =
      config.scrapeMetrics.length > 0
        ? startScraper(config.scrapeMetrics, () => (performance.now() - t0) / 1000)
        : undefined;
    const results = await Promise.all(
      prepared.map((p, i) => runClass(config, pool, p, t0, () => progress.tick(i))),
    );
    const endMs = performance.now();
    progress.stop();
    const samples = scraper ? await scraper.stop() : [];
    const percentiles = config.percentiles;
    const classes: ClassRun[] = prepared.map((p, i) => {
      const r = results[i]!;
      const durationS = (r.endMs - t0) / 1000;
      const c = p.cls;
      return {
        name: c.name,
        model: c.model,
        priority: c.priority,
        requestRate: c.requestRate,
        burstiness: c.burstiness,
        maxConcurrency: c.maxConcurrency,
        numPrompts: c.numPrompts,
        slo: c.slo,
        goodputEnabled: sloActive(c.slo),
        durationS,
        outputs: r.outputs,
        metrics: computeMetrics(r.outputs, durationS, { percentiles, sloOf: () => c.slo }),
      };
    });
    const allOutputs = classes.flatMap((c) => c.outputs);
    const durationS = (endMs - t0) / 1000;
    const aggregate: ClassRun = {
      name: "all",
      model: [...new Set(config.classes.map((c) => c.model))].join(","),
      priority: undefined,
      requestRate: config.classes.reduce((a, c) => a + c.requestRate, 0),
      burstiness: config.classes[0]!.burstiness,
      maxConcurrency: connections,
      numPrompts: config.classes.reduce((a, c) => a + c.numPrompts, 0),
      slo: undefined,
      goodputEnabled: config.classes.some((c) => sloActive(c.slo)),
      durationS,
      outputs: allOutputs,
      metrics: computeMetrics(allOutputs, durationS, {
        percentiles,
        sloOf: (o) => config.classes[o.classIndex]?.slo,
      }),
    };
    return { startedAt, t0: t0 / 1000, classes, aggregate, multiClass: config.multiClass, samples };
  } finally {
    await pool.close();
  }
}
