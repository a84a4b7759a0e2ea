import { request } from "undici";

/** One scrape of one server's load gauges. */
export interface MetricsSample {
  /** Seconds since the benchmark start. */
  t: number;
  url: string;
  /** Sum of `vllm:num_requests_running` over the page's series; null when absent or unreachable. */
  running: number | null;
  /** Sum of `vllm:num_requests_waiting`. */
  waiting: number | null;
  /** Max of `vllm:kv_cache_usage_perc` (or V0 `vllm:gpu_cache_usage_perc`), a fraction 0..1. */
  kvCacheUsage: number | null;
}

const RUNNING = "vllm:num_requests_running";
const WAITING = "vllm:num_requests_waiting";
const KV = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"];

/** Extracts running / waiting / KV usage from a Prometheus text page (pure). */
export function parseGauges(text: string): Omit<MetricsSample, "t" | "url"> {
  let running: number | null = null;
  let waiting: number | null = null;
  let kv: number | null = null;
  let kvV0: number | null = null;
  for (const line of text.split("\n")) {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd < 0) continue;
    const name = line.slice(0, nameEnd);
    if (name !== RUNNING && name !== WAITING && !KV.includes(name)) continue;
    const valueText =
      line
        .slice(line.lastIndexOf("}") + 1)
        .trim()
        .split(/\s+/)[0] ?? "";
    const v = Number(valueText);
    if (!Number.isFinite(v)) continue;
    if (name === RUNNING) running = (running ?? 0) + v;
    else if (name === WAITING) waiting = (waiting ?? 0) + v;
    else if (name === KV[0]) kv = Math.max(kv ?? 0, v);
    else kvV0 = Math.max(kvV0 ?? 0, v);
  }
  return { running, waiting, kvCacheUsage: kv ?? kvV0 };
}

/** Fetches and parses one metrics page; an unreachable server gives a sample of nulls. */
export async function scrapeOnce(url: string, t: number): Promise<MetricsSample> {
  try {
    const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { t, url, running: null, waiting: null, kvCacheUsage: null };
    return { t, url, ...parseGauges(text) };
  } catch {
    return { t, url, running: null, waiting: null, kvCacheUsage: null };
  }
}

/**
 * Samples every URL once a second (first sample at once, last at stop) until `stop()` resolves with all samples
 * in time order. `nowS` returns seconds since the benchmark start.
 */
export function startScraper(
  urls: readonly string[],
  nowS: () => number,
): { stop(): Promise<MetricsSample[]> } {
  const samples: MetricsSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const tick = () => {
    const t = nowS();
    for (const url of urls) {
      const p = scrapeOnce(url, t).then((s) => {
        samples.push(s);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await Promise.all(inFlight);
      return samples.sort((a, b) => a.t - b.t || a.url.localeCompare(b.url));
    },
  };
}
