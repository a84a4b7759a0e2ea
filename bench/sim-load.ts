/**
 * Closed-loop streaming load for simulator benchmarks: `concurrency` workers per URL, each sending
 * /v1/completions requests (distinct random-word prompts, ignore_eos) back to back. Measures like
 * `vllm bench serve`: TTFT, TPOT = (E2EL - TTFT)/(out - 1), and output tokens per second, over a
 * window after a warm-up (TTFT/TPOT of the requests that finish inside [warmup, warmup+window]).
 */
import { Pool } from "undici";

export interface LoadSpec {
  urls: string[];
  model: string;
  concurrencyPerUrl: number;
  promptTokens: number;
  outputTokens: number;
  warmupS: number;
  windowS: number;
}

export interface LoadResult {
  requests: number;
  meanTtftMs: number;
  meanTpotMs: number;
  /** Output tokens received during the window, all URLs, per second. */
  outputTokPerS: number;
  failures: number;
}

/** Runs the load and returns its figures (wall-clock ms and s). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let serial = 0;
  let stop = false;
  let failures = 0;
  const t0 = performance.now();
  const winStart = t0 + spec.warmupS * 1000;
  const winEnd = winStart + spec.windowS * 1000;
  let windowTokens = 0;
  const ttfts: number[] = [];
  const tpots: number[] = [];

  async function one(pool: Pool): Promise<void> {
    const id = serial++;
    const words: string[] = new Array(spec.promptTokens);
    for (let i = 0; i < spec.promptTokens; i++) words[i] = `r${id}w${i}`;
    const body = JSON.stringify({
      model: spec.model,
      prompt: words.join(" "),
      max_tokens: spec.outputTokens,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    const start = performance.now();
    const res = await pool.request({
      path: "/v1/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    let first = 0;
    let last = 0;
    let tokens = 0;
    for await (const chunk of res.body) {
      const s = (chunk as Buffer).toString("latin1");
      let n = 0;
      let i = s.indexOf('"finish_reason"');
      while (i >= 0) {
        n++;
        i = s.indexOf('"finish_reason"', i + 15);
      }
      if (n === 0) continue;
      const now = performance.now();
      if (tokens === 0) first = now;
      last = now;
      tokens += n;
      if (now >= winStart && now < winEnd) windowTokens += n;
    }
    if (res.statusCode !== 200 || tokens !== spec.outputTokens) {
      failures++;
      return;
    }
    if (last >= winStart && last < winEnd) {
      ttfts.push(first - start);
      tpots.push((last - first) / (tokens - 1));
    }
  }

  const pools = spec.urls.map((u) => new Pool(u, { connections: spec.concurrencyPerUrl }));
  const workers: Promise<void>[] = [];
  for (const pool of pools) {
    for (let c = 0; c < spec.concurrencyPerUrl; c++) {
      workers.push(
        (async () => {
          while (!stop) await one(pool);
        })().catch(() => undefined), // in-flight requests fail when the pools are destroyed at the end
      );
    }
  }
  await new Promise((r) => setTimeout(r, winEnd - performance.now()));
  stop = true;
  await Promise.allSettled(pools.map((p) => p.destroy()));
  await Promise.allSettled(workers);
  const mean = (a: number[]) => (a.length === 0 ? Number.NaN : a.reduce((x, y) => x + y, 0) / a.length);
  return {
    requests: tpots.length,
    meanTtftMs: mean(ttfts),
    meanTpotMs: mean(tpots),
    outputTokPerS: windowTokens / spec.windowS,
    failures,
  };
}
