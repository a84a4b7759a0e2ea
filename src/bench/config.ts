import type { Slo } from "./metrics.ts";

/** One traffic class: its own prompts, arrivals and concurrency limit, on the run's shared clock. */
export interface TrafficClass {
  name: string;
  /** Model name sent in each request's body. */
  model: string;
  numPrompts: number;
  /** `--random-input-len` / `--random-output-len` / `--random-prefix-len` / `--random-range-ratio`. */
  inputLen: number;
  outputLen: number;
  prefixLen: number;
  rangeRatio: number;
  /** Requests per second; Infinity sends all at t0. */
  requestRate: number;
  burstiness: number;
  rampUp?: { strategy: "linear" | "exponential"; startRps: number; endRps: number };
  /** Client-side concurrency limit; null = unlimited. */
  maxConcurrency: number | null;
  /** Extra request headers of this class. */
  headers: Record<string, string>;
  /** Sent as the body field `priority` (vLLM's: lower runs first) when set. */
  priority?: number;
  /** Goodput SLOs in ms. */
  slo?: Slo;
  /** Seconds after the run's start at which this class's first request is due (default 0). */
  startDelayS?: number;
  /** Seed of this class's prompts and arrivals (default: `--seed`, so equal classes send equal prompts). */
  seed: number;
  /** LoRA adapter names to spread requests over instead of `model`. */
  loraModules?: string[];
  loraAssignment?: "random" | "round-robin";
}

/** Everything `runBenchmark` needs. Build it with the CLI, or by hand for in-process use (`igw demo`). */
export interface BenchConfig {
  /** Server root, e.g. "http://127.0.0.1:8000" (no trailing slash). */
  baseUrl: string;
  /** Request path, e.g. "/v1/completions". */
  endpoint: string;
  backend: "openai" | "openai-chat";
  classes: TrafficClass[];
  /** Report per class (set when --class / --workload was used). */
  multiClass: boolean;
  /** Send `ignore_eos: true` (vLLM forces it for the random dataset). */
  ignoreEos: boolean;
  /** Merged into every request body (`--extra-body` + sampling flags). */
  extraBody: Record<string, unknown>;
  /** Percentiles computed for every metric (`--metric-percentiles`). */
  percentiles: number[];
  numWarmups: number;
  /** Retry the first request until it succeeds or this many seconds pass; 0 skips the check. */
  readyCheckTimeoutS: number;
  /** `x-request-id` prefix; the class name and index are appended. */
  requestIdPrefix: string;
  /** Idle timeout for headers and between chunks, s. */
  requestTimeoutS: number;
  /** Stop sending new requests this many seconds after the start (unset: send all). */
  durationS?: number;
  /** Show a progress bar on stderr (the caller decides TTY-ness). */
  progress: boolean;
  /** Prometheus pages to sample once a second. */
  scrapeMetrics: string[];
  /** Collect generated text (parses every chunk). */
  collectText: boolean;
  /** Re-align prompt lengths with the server's /tokenize when it disagrees (vLLM does). */
  alignPrompts: boolean;
  /** Where informational lines go (default: stdout). */
  log?: (line: string) => void;
}

/** Keys accepted in `--class` and in workload files, in documentation order. */
export const CLASS_KEYS = [
  "name",
  "model",
  "rate",
  "burstiness",
  "concurrency",
  "num-prompts",
  "input-len",
  "output-len",
  "prefix-len",
  "range-ratio",
  "priority",
  "header",
  "slo",
  "seed",
] as const;

/** A class as written by the user: every field optional except name; defaults come from the flags. */
export type ClassOverrides = Partial<Omit<TrafficClass, "name" | "headers">> & {
  name: string;
  headers?: Record<string, string>;
};

/** Parses a number, "inf" or "infinity" (any case). Throws a RangeError naming `what`. */
export function parseNumberOrInf(text: string, what: string): number {
  const t = text.trim().toLowerCase();
  if (t === "inf" || t === "infinity" || t === "+inf") return Number.POSITIVE_INFINITY;
  const v = Number(t);
  if (t === "" || Number.isNaN(v)) throw new RangeError(`${what}: expected a number or "inf", got "${text}"`);
  return v;
}

function parseInteger(text: string, what: string, min: number): number {
  const v = Number(text.trim());
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`${what}: expected an integer >= ${min}, got "${text}"`);
  return v;
}

/** Parses "ttft:300|tpot:50" (or space/comma separated) into SLOs in ms. */
export function parseSlo(text: string, what: string): Slo {
  const slo: Slo = {};
  for (const part of text.split(/[|\s,]+/).filter(Boolean)) {
    const [k, v, ...rest] = part.split(":");
    if (rest.length > 0 || v === undefined || (k !== "ttft" && k !== "tpot" && k !== "e2el")) {
      throw new RangeError(`${what}: expected ttft|tpot|e2el:<ms>, got "${part}"`);
    }
    const ms = Number(v);
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`${what}: SLO "${k}" must be a number >= 0, got "${v}"`);
    slo[k] = ms;
  }
  return slo;
}

/**
 * Parses one `--class name=...,model=...,concurrency=...,rate=...,num-prompts=...,input-len=...,
 * output-len=...,prefix-len=...,range-ratio=...,priority=...,header=K:V,slo=ttft:ms|tpot:ms,seed=...`.
 * Errors name the offending key and value.
 */
export function parseClassSpec(spec: string): ClassOverrides {
  const fields = new Map<string, string[]>();
  for (const part of spec.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new RangeError(`--class "${spec}": expected key=value, got "${part}"`);
    const key = part.slice(0, eq).trim();
    if (!(CLASS_KEYS as readonly string[]).includes(key)) {
      throw new RangeError(`--class "${spec}": unknown key "${key}" (known: ${CLASS_KEYS.join(", ")})`);
    }
    fields.set(key, [...(fields.get(key) ?? []), part.slice(eq + 1)]);
  }
  const one = (k: string): string | undefined => {
    const v = fields.get(k);
    if (v && v.length > 1 && k !== "header") throw new RangeError(`--class "${spec}": "${k}" given twice`);
    return v?.[0];
  };
  const name = one("name")?.trim();
  if (!name) throw new RangeError(`--class "${spec}": "name" is required`);
  const w = (k: string) => `--class ${name}: ${k}`;
  const out: ClassOverrides = { name };
  const str = (k: string) => one(k);
  const model = str("model");
  if (model !== undefined) out.model = model.trim();
  const rate = str("rate");
  if (rate !== undefined) out.requestRate = parseNumberOrInf(rate, w("rate"));
  const burst = str("burstiness");
  if (burst !== undefined) out.burstiness = parseNumberOrInf(burst, w("burstiness"));
  const conc = str("concurrency");
  if (conc !== undefined) out.maxConcurrency = parseInteger(conc, w("concurrency"), 1);
  const np = str("num-prompts");
  if (np !== undefined) out.numPrompts = parseInteger(np, w("num-prompts"), 1);
  const il = str("input-len");
  if (il !== undefined) out.inputLen = parseInteger(il, w("input-len"), 0);
  const ol = str("output-len");
  if (ol !== undefined) out.outputLen = parseInteger(ol, w("output-len"), 1);
  const pl = str("prefix-len");
  if (pl !== undefined) out.prefixLen = parseInteger(pl, w("prefix-len"), 0);
  const rr = str("range-ratio");
  if (rr !== undefined) out.rangeRatio = parseNumberOrInf(rr, w("range-ratio"));
  const pr = str("priority");
  if (pr !== undefined) out.priority = parseInteger(pr, w("priority"), Number.MIN_SAFE_INTEGER);
  const seed = str("seed");
  if (seed !== undefined) out.seed = parseInteger(seed, w("seed"), 0);
  const slo = str("slo");
  if (slo !== undefined) out.slo = parseSlo(slo, w("slo"));
  for (const h of fields.get("header") ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new RangeError(`${w("header")}: expected K:V, got "${h}"`);
    out.headers = { ...out.headers, [h.slice(0, colon).trim()]: h.slice(colon + 1).trim() };
  }
  return out;
}

/** Fills a class's missing fields from the defaults (the global flags) and validates ranges. */
export function resolveClass(o: ClassOverrides, defaults: Omit<TrafficClass, "name">): TrafficClass {
  const c: TrafficClass = {
    ...defaults,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
    headers: { ...defaults.headers, ...o.headers },
    name: o.name,
  } as TrafficClass;
  if (!(c.rangeRatio >= 0 && c.rangeRatio < 1)) {
    throw new RangeError(`class ${c.name}: range-ratio must be in [0, 1), got ${c.rangeRatio}`);
  }
  if (!(c.requestRate > 0)) throw new RangeError(`class ${c.name}: rate must be > 0, got ${c.requestRate}`);
  if (!(c.burstiness > 0))
    throw new RangeError(`class ${c.name}: burstiness must be > 0, got ${c.burstiness}`);
  return c;
}

/** A traffic class with `vllm bench serve`'s defaults (1000 prompts, 1024 in, 128 out, rate inf), overridden by `o`. */
export function defaultClass(o: Partial<TrafficClass> & { name: string; model: string }): TrafficClass {
  return {
    numPrompts: 1000,
    inputLen: 1024,
    outputLen: 128,
    prefixLen: 0,
    rangeRatio: 0,
    requestRate: Number.POSITIVE_INFINITY,
    burstiness: 1,
    maxConcurrency: null,
    headers: {},
    seed: 0,
    ...o,
  };
}

/** A BenchConfig with the CLI's defaults for `classes` against `baseUrl` (completions, P99, no progress bar). */
export function defaultBenchConfig(
  baseUrl: string,
  classes: TrafficClass[],
  o: Partial<BenchConfig> = {},
): BenchConfig {
  return {
    baseUrl: baseUrl.replace(/\/+$/, ""),
    endpoint: "/v1/completions",
    backend: "openai",
    classes,
    multiClass: classes.length > 1,
    ignoreEos: true,
    extraBody: {},
    percentiles: [99],
    numWarmups: 0,
    readyCheckTimeoutS: 0,
    requestIdPrefix: "bench-",
    requestTimeoutS: 21600,
    progress: false,
    scrapeMetrics: [],
    collectText: false,
    alignPrompts: true,
    ...o,
  };
}
