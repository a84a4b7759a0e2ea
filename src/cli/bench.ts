import { randomBytes } from "node:crypto";
import { appendFile, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { request } from "undici";
import { writeChart } from "../bench/chart.ts";
import {
  type BenchConfig,
  type ClassOverrides,
  parseClassSpec,
  parseNumberOrInf,
  parseSlo,
  resolveClass,
  type TrafficClass,
} from "../bench/config.ts";
import { PERCENTILE_METRICS, type PercentileMetric } from "../bench/metrics.ts";
import { formatReport } from "../bench/report.ts";
import { buildResultJson, formatDate, type ResultMeta, resultFileName } from "../bench/result-json.ts";
import { runBenchmark } from "../bench/run-benchmark.ts";
import { loadWorkload } from "../bench/workload-file.ts";

const num = (flag: string) => (v: string) => {
  try {
    return parseNumberOrInf(v, flag);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const int = (flag: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${flag}: expected an integer >= ${min}, got "${v}"`);
  return n;
};
const collect = (v: string, acc: string[]) => [...acc, v];

function keyValues(items: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new Error(`${flag}: invalid format "${item}". Please use KEY=VALUE format.`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

async function firstServedModel(baseUrl: string, headers: Record<string, string>): Promise<[string, string]> {
  const url = `${baseUrl}/v1/models`;
  try {
    const res = await request(url, { headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const body = (await res.body.json()) as { data?: Array<{ id: string; root?: string }> };
    const m = body.data?.[0];
    if (res.statusCode !== 200 || !m) throw new Error(`HTTP ${res.statusCode}, no models listed`);
    return [m.id, m.root ?? m.id];
  } catch (e) {
    throw new Error(`Failed to fetch models from server at ${url}: ${(e as Error).message}`);
  }
}

/** `igw bench`: `vllm bench serve`-compatible serving benchmark with traffic classes. */
export function benchCommand() {
  return new Command("bench")
    .description(
      "Serving benchmark compatible with `vllm bench serve` (same flags, metrics, report and JSON), " +
        "plus traffic classes run at once (--class / --workload), charts and metric scraping",
    )
    .addOption(new Option("--backend <name>", "openai | openai-chat (vllm = openai)").default("openai"))
    .option("--base-url <url>", "server or API base URL (instead of --host/--port)")
    .option("--host <host>", "server host", "127.0.0.1")
    .option("--port <port>", "server port", int("--port", 0), 8000)
    .option(
      "--endpoint <path>",
      "API endpoint (default /v1/completions; /v1/chat/completions for openai-chat)",
    )
    .option("--model <name>", "model id (default: first model of /v1/models)")
    .option("--served-model-name <name>", "model name sent in requests (default: --model)")
    .option("--tokenizer <name>", "accepted for compatibility; prompts are built from words")
    .option("--tokenizer-mode <mode>", "accepted for compatibility")
    .option("--trust-remote-code", "accepted for compatibility")
    .option("--dataset-name <name>", "only 'random' is supported", "random")
    .option("--dataset-path <path>", "not supported (random dataset only)")
    .option("--num-prompts <n>", "number of prompts per class", int("--num-prompts", 1), 1000)
    .option("--seed <n>", "random seed", int("--seed", 0), 0)
    .option("--random-input-len <n>", "input tokens per request", int("--random-input-len", 0), 1024)
    .option("--random-output-len <n>", "output tokens per request", int("--random-output-len", 1), 128)
    .option("--random-prefix-len <n>", "shared prefix tokens", int("--random-prefix-len", 0), 0)
    .option(
      "--random-range-ratio <r>",
      "lengths uniform in [len(1-r), len(1+r)], r in [0,1)",
      num("--random-range-ratio"),
      0,
    )
    .option("--input-len <n>", "alias of --random-input-len", int("--input-len", 0))
    .option("--output-len <n>", "alias of --random-output-len", int("--output-len", 1))
    .option("--ignore-eos", "send ignore_eos (always on for the random dataset, as in vLLM)")
    .option(
      "--request-rate <rps>",
      "requests per second, or inf",
      num("--request-rate"),
      Number.POSITIVE_INFINITY,
    )
    .option("--burstiness <b>", "gamma shape of arrivals (1 = Poisson)", num("--burstiness"), 1)
    .option("--max-concurrency <n>", "client-side concurrency limit", int("--max-concurrency", 1))
    .addOption(
      new Option("--ramp-up-strategy <s>", "ramp the rate by request index").choices([
        "linear",
        "exponential",
      ]),
    )
    .option("--ramp-up-start-rps <n>", "ramp-up start rate", int("--ramp-up-start-rps", 0))
    .option("--ramp-up-end-rps <n>", "ramp-up end rate", int("--ramp-up-end-rps", 0))
    .option("--num-warmups <n>", "warm-up requests before the run", int("--num-warmups", 0), 0)
    .option(
      "--ready-check-timeout-sec <s>",
      "retry the first request until ready (0 = skip)",
      int("--ready-check-timeout-sec", 0),
      0,
    )
    .option("--header <kv...>", "extra request headers KEY=VALUE")
    .option("--extra-body <json>", "JSON merged into every request body")
    .option("--temperature <x>", "sampling temperature", num("--temperature"))
    .option("--top-p <x>", "top-p", num("--top-p"))
    .option("--top-k <n>", "top-k", int("--top-k", -1))
    .option("--min-p <x>", "min-p", num("--min-p"))
    .option("--frequency-penalty <x>", "frequency penalty", num("--frequency-penalty"))
    .option("--presence-penalty <x>", "presence penalty", num("--presence-penalty"))
    .option("--repetition-penalty <x>", "repetition penalty", num("--repetition-penalty"))
    .option("--lora-modules <names...>", "LoRA adapter names to spread requests over")
    .addOption(
      new Option("--lora-assignment <s>", "LoRA choice per request")
        .choices(["random", "round-robin"])
        .default("random"),
    )
    .option(
      "--percentile-metrics <list>",
      "metrics with percentiles: ttft,tpot,itl,e2el,client_queue_time,e2el_including_client_queue",
      "ttft,tpot,itl",
    )
    .option("--metric-percentiles <list>", "percentiles to report, e.g. 50,90,99", "99")
    .option("--goodput <slo...>", "SLOs KEY:ms for goodput (ttft, tpot, e2el)")
    .option("--save-result", "save the result JSON")
    .option("--save-detailed", "keep per-request lists in the JSON")
    .option("--append-result", "append the JSON as a line to the result file")
    .option("--result-dir <dir>", "directory of the result file")
    .option("--result-filename <name>", "result file name")
    .option("--label <label>", "result label (default: --backend)")
    .option("--metadata <kv...>", "KEY=VALUE pairs stored in the JSON")
    .option("--request-id-prefix <p>", "x-request-id prefix", `bench-${randomBytes(4).toString("hex")}-`)
    .option("--disable-progress", "no progress bar")
    .option("--disable-tqdm", "alias of --disable-progress")
    .option("--legacy-report", "print the v0.8 benchmark_serving.py layout")
    .option(
      "--class <spec>",
      "traffic class name=..,model=..,rate=..,concurrency=..,... (repeatable)",
      collect,
      [] as string[],
    )
    .option("--workload <file>", "YAML file with `classes:`")
    .option("--duration-s <s>", "stop sending new requests after this many seconds", num("--duration-s"))
    .option("--request-timeout-s <s>", "idle timeout per request", num("--request-timeout-s"), 21600)
    .option("--scrape-metrics <urls...>", "Prometheus pages to sample once a second")
    .option("--plot <file>", "write a chart (.svg or .png)")
    .option("--no-align-prompts", "do not re-align prompt lengths with the server's /tokenize")
    .action(async (o) => {
      try {
        await runBenchCli(o);
      } catch (e) {
        process.stderr.write(`igw bench: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}

type BenchOptions = ReturnType<ReturnType<typeof benchCommand>["opts"]>;

async function runBenchCli(o: BenchOptions): Promise<void> {
  if (o.datasetName !== "random")
    throw new Error(`--dataset-name ${o.datasetName}: only "random" is supported`);
  if (o.datasetPath) throw new Error("--dataset-path: only the random dataset is supported");
  const backendIn = o.backend === "vllm" ? "openai" : o.backend;
  if (backendIn !== "openai" && backendIn !== "openai-chat") {
    throw new Error(`--backend ${o.backend}: expected openai, openai-chat or vllm`);
  }
  const backend: "openai" | "openai-chat" = backendIn;
  const endpoint = o.endpoint ?? (backend === "openai-chat" ? "/v1/chat/completions" : "/v1/completions");
  const host = o.host.includes(":") && !o.host.startsWith("[") ? `[${o.host}]` : o.host;
  const baseUrl = (o.baseUrl ?? `http://${host}:${o.port}`).replace(/\/+$/, "");
  const headers = keyValues(o.header, "--header");
  // Validate classes and the workload file before talking to the server.
  let overrides: ClassOverrides[] = o.class.map(parseClassSpec);
  if (o.workload) overrides = [...loadWorkload(o.workload), ...overrides];
  const percentileMetrics = o.percentileMetrics.split(",").map((s) => s.trim()) as PercentileMetric[];
  for (const m of percentileMetrics) {
    if (!(PERCENTILE_METRICS as readonly string[]).includes(m)) {
      throw new Error(
        `--percentile-metrics: unknown metric "${m}" (known: ${PERCENTILE_METRICS.join(", ")})`,
      );
    }
  }
  const percentiles = o.metricPercentiles.split(",").map((s) => {
    const p = Number(s.trim());
    if (!(p >= 0 && p <= 100)) throw new Error(`--metric-percentiles: "${s}" is not in [0, 100]`);
    return p;
  });
  const slo = o.goodput ? parseSlo(o.goodput.join(" "), "--goodput") : undefined;
  let extraBody: Record<string, unknown> = {};
  if (o.extraBody !== undefined) {
    try {
      extraBody = JSON.parse(o.extraBody) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`--extra-body: not valid JSON (${(e as Error).message})`);
    }
  }
  const sampling: Record<string, number | undefined> = {
    top_p: o.topP,
    top_k: o.topK,
    min_p: o.minP,
    temperature: o.temperature,
    frequency_penalty: o.frequencyPenalty,
    presence_penalty: o.presencePenalty,
    repetition_penalty: o.repetitionPenalty,
  };
  for (const [k, v] of Object.entries(sampling)) if (v !== undefined) extraBody = { [k]: v, ...extraBody };
  let rampUp: TrafficClass["rampUp"];
  if (o.rampUpStrategy) {
    if (o.requestRate !== Number.POSITIVE_INFINITY) {
      throw new Error("When using ramp-up, do not specify --request-rate.");
    }
    if (o.rampUpStartRps === undefined || o.rampUpEndRps === undefined) {
      throw new Error(
        "When using --ramp-up-strategy, both --ramp-up-start-rps and --ramp-up-end-rps must be specified",
      );
    }
    if (o.rampUpStartRps > o.rampUpEndRps) throw new Error("Ramp-up start RPS must be less than end RPS");
    if (o.rampUpStrategy === "exponential" && o.rampUpStartRps === 0) {
      throw new Error("For exponential ramp-up, the start RPS cannot be 0.");
    }
    rampUp = {
      strategy: o.rampUpStrategy as "linear" | "exponential",
      startRps: o.rampUpStartRps,
      endRps: o.rampUpEndRps,
    };
  }
  let modelId = o.model;
  let served = o.servedModelName;
  if (modelId === undefined) {
    process.stdout.write("Model not specified, fetching first model from server...\n");
    const [name, root] = await firstServedModel(baseUrl, headers);
    process.stdout.write(`First model name: ${name}, first model id: ${root}\n`);
    modelId = root;
    served ??= name;
  }
  served ??= modelId;
  const defaults: Omit<TrafficClass, "name"> = {
    model: served,
    numPrompts: o.numPrompts,
    inputLen: o.inputLen ?? o.randomInputLen,
    outputLen: o.outputLen ?? o.randomOutputLen,
    prefixLen: o.randomPrefixLen,
    rangeRatio: o.randomRangeRatio,
    requestRate: o.requestRate,
    burstiness: o.burstiness,
    ...(rampUp ? { rampUp } : {}),
    maxConcurrency: o.maxConcurrency ?? null,
    headers,
    ...(slo ? { slo } : {}),
    seed: o.seed,
    ...(o.loraModules ? { loraModules: o.loraModules } : {}),
    loraAssignment: o.loraAssignment as "random" | "round-robin",
  };
  const multiClass = overrides.length > 0;
  const classes = multiClass
    ? overrides.map((c) => resolveClass(c, defaults))
    : [resolveClass({ name: served }, defaults)];
  const config: BenchConfig = {
    baseUrl,
    endpoint,
    backend,
    classes,
    multiClass,
    ignoreEos: true,
    extraBody,
    percentiles,
    numWarmups: o.numWarmups,
    readyCheckTimeoutS: o.readyCheckTimeoutSec,
    requestIdPrefix: o.requestIdPrefix,
    requestTimeoutS: o.requestTimeoutS,
    ...(o.durationS !== undefined ? { durationS: o.durationS } : {}),
    progress: !o.disableProgress && !o.disableTqdm && process.stderr.isTTY === true,
    scrapeMetrics: o.scrapeMetrics ?? [],
    collectText: o.saveDetailed === true,
    alignPrompts: o.alignPrompts,
  };
  const run = await runBenchmark(config);
  process.stdout.write(
    formatReport(run, { percentileMetrics, metricPercentiles: percentiles, legacy: o.legacyReport === true }),
  );
  const meta: ResultMeta = {
    backend: o.backend,
    label: o.label ?? null,
    modelId,
    tokenizerId: o.tokenizer ?? modelId,
    numPrompts: classes.reduce((a, c) => a + c.numPrompts, 0),
    metadata: keyValues(o.metadata, "--metadata"),
    requestRate: multiClass ? run.aggregate.requestRate : o.requestRate,
    burstiness: o.burstiness,
    maxConcurrency: multiClass ? run.aggregate.maxConcurrency : (o.maxConcurrency ?? null),
    ...(rampUp ? { rampUp } : {}),
    percentileMetrics,
    saveDetailed: o.saveDetailed === true,
  };
  if (o.saveResult || o.appendResult) {
    let file = o.resultFilename ?? resultFileName(meta, formatDate(run.startedAt));
    if (o.resultDir) {
      await mkdir(o.resultDir, { recursive: true });
      file = join(o.resultDir, file);
    }
    const json = JSON.stringify(buildResultJson(run, meta));
    if (o.appendResult) {
      const { size } = await stat(file).catch(() => ({ size: 0 }));
      await appendFile(file, (size > 0 ? "\n" : "") + json);
    } else {
      await writeFile(file, json);
    }
    process.stdout.write(`Results saved to ${file}\n`);
  }
  if (o.plot) {
    await writeChart(run, o.plot);
    process.stdout.write(`Chart written to ${o.plot}\n`);
  }
}
