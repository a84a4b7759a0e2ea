/**
 * Decision-cost microbenchmark (`npm run bench:scheduler`): one decision = schedule() + preRequest()
 * over N endpoints with varied load and a warm prefix index, for prompts of 4k and 32k characters,
 * of two schedulers: the default scorer profile (the expected-TTFT cost model over the approximate
 * prefix index, max-score picker with 2 fallbacks), and the cost model over the precise prefix index
 * (precise-prefix-cache-scorer: simulator tokenizer, vLLM block-hash chain, resident blocks filled
 * as the servers' KV events would fill them; its ZMQ subscriptions point nowhere and stay silent).
 * mitata measures single calls (no batching), so p99 is a per-decision p99, once on the wall clock
 * and once on the process CPU clock (which a shared, overloaded machine does not inflate).
 *
 * Usage: npm run bench:scheduler -- [--index=approximate|precise] [--endpoints=10,100,1000]
 *          [--chars=4000,32000]   (a subset of the cases, e.g. for `node --cpu-prof`)
 */
import { measure } from "mitata";
import { BlockKeyChain } from "../src/kvcache/block-key-chain.ts";
import { blockStoredOf } from "../src/kvcache/kv-events.ts";
import { simTokenIds } from "../src/kvcache/sim-token-ids.ts";
import { VllmBlockHasher } from "../src/kvcache/vllm-block-hash.ts";
import { emptyMetrics } from "../src/modelserver/endpoint-metrics.ts";
import { defaultScorerProfiles } from "../src/scheduling/default-profiles.ts";
import { MaxScorePicker } from "../src/scheduling/plugins/pickers/max-score-picker.ts";
import { ExpectedTtftScorer } from "../src/scheduling/plugins/scorers/expected-ttft-scorer.ts";
import {
  PrecisePrefixCacheScorer,
  type PrecisePrefixCacheScorerOptions,
  precisePrefixCacheScorerPlugin,
} from "../src/scheduling/plugins/scorers/precise-prefix-cache-scorer.ts";
import { ProfileScheduler } from "../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../src/scheduling/random.ts";
import type { Candidate, SchedulingRequest } from "../src/scheduling/types.ts";

const rng = seededRng(42);

/** Process CPU time (user + system) in ns; 1 µs resolution. */
function cpuNowNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}
const GROUPS = 16;

/** N endpoints whose records are filled the way the scraper fills them (same object shape). */
function candidates(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => {
    const metrics = emptyMetrics();
    metrics.waiting = Math.floor(rng() * 20);
    metrics.running = Math.floor(rng() * 64);
    metrics.kvCacheUsage = rng();
    metrics.blockSize = 16;
    metrics.numGpuBlocks = 20_000;
    metrics.updatedAt = Date.now();
    const host = `10.0.${i >> 8}.${i & 255}`;
    return {
      endpoint: { id: `${host}:8000`, host, port: 8000, labels: {} },
      metrics,
      inFlight: { requests: Math.floor(rng() * 4), tokens: Math.floor(rng() * 8000), kvTokens: 0 },
      stale: false,
    };
  });
}

function text(chars: number, seed: number): string {
  const r = seededRng(seed);
  let s = "";
  while (s.length < chars) s += `w${Math.floor(r() * 1e6).toString(36)} `;
  return s.slice(0, chars);
}

/** Requests: one of GROUPS shared system prompts (3/4 of the text) + a unique question. */
function requests(count: number, chars: number): SchedulingRequest[] {
  const shared = Math.floor((chars * 3) / 4);
  const systems = Array.from({ length: GROUPS }, (_, g) => text(shared, g + 1));
  return Array.from({ length: count }, (_, i) => ({
    requestId: `r${chars}-${i}`,
    targetModel: "llama-3-8b",
    isAdapter: false,
    priority: 0,
    prefixText: systems[i % GROUPS]! + text(chars - shared, 1000 + i),
    promptTokens: chars / 4,
    headers: {},
  }));
}

/** The cost model over the precise index, and a hook that stores each decision's blocks as events would. */
function preciseScheduler(): {
  scheduler: ProfileScheduler;
  learn: (r: SchedulingRequest, c: Candidate) => void;
  close: () => void;
} {
  const options = precisePrefixCacheScorerPlugin.parameters.parse({
    hashSeed: "0",
    kvEventsPort: 1,
    staleAfterMs: 1e9,
  }) as PrecisePrefixCacheScorerOptions;
  const precise = new PrecisePrefixCacheScorer("precise-prefix-cache-scorer", options);
  const ttft = new ExpectedTtftScorer("expected-ttft-scorer", precise);
  const profile = {
    name: "precise",
    filters: [],
    scorers: [
      { scorer: ttft, weight: 1 },
      { scorer: precise, weight: 0 },
    ],
    picker: new MaxScorePicker(seededRng(1), "max-score-picker", 3),
  };
  const chain = new BlockKeyChain(new VllmBlockHasher("sha256", "0"));
  const learn = (r: SchedulingRequest, c: Candidate) => {
    const keys = chain.keys(simTokenIds(r.prefixText, 4096), 16, null, 256);
    precise.tracker.watch(c.endpoint.id, c.endpoint.host).apply({
      ts: 0,
      events: [blockStoredOf(keys.map(BigInt), 16)],
      dataParallelRank: null,
    });
  };
  return {
    scheduler: new ProfileScheduler({ profiles: [profile], preRequestHooks: [ttft, precise] }),
    learn,
    close: () => precise.close(),
  };
}

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const list = (name: string, dflt: string) => (flag(name) ?? dflt).split(",");
const INDEXES = list("index", "approximate,precise").map((x) => {
  if (x !== "approximate" && x !== "precise") throw new Error(`--index: ${x} is not approximate or precise`);
  return x;
});
const ENDPOINTS = list("endpoints", "10,100,1000").map(Number);
const CHARS = list("chars", "4000,32000").map(Number);

const rows: string[] = [];
for (const index of INDEXES) {
  for (const n of ENDPOINTS) {
    for (const chars of CHARS) {
      const cs = candidates(n);
      let scheduler: ProfileScheduler;
      let learn: (r: SchedulingRequest, c: Candidate) => void = () => {};
      let close = () => {};
      if (index === "approximate") {
        const { profile, hooks } = defaultScorerProfiles(seededRng(1));
        scheduler = new ProfileScheduler({ profiles: [profile], preRequestHooks: hooks });
      } else ({ scheduler, learn, close } = preciseScheduler());
      const reqs = requests(512, chars);
      // Warm the index: every request once, as a running gateway would have.
      for (const r of reqs) {
        const chosen = scheduler.schedule(r, cs).endpoints[0]!;
        scheduler.preRequest(r, chosen);
        learn(r, chosen);
      }
      let i = 0;
      const decide = () => {
        const base = reqs[i++ % reqs.length]!;
        const r = { ...base, requestId: `${base.requestId}-${i}` };
        const res = scheduler.schedule(r, cs);
        scheduler.preRequest(r, res.endpoints[0]!);
      };
      const opts = { batch_unroll: 1, batch_threshold: 0, min_cpu_time: 400e6, max_samples: 20_000 };
      const wall = await measure(decide, opts);
      // The same on the process's CPU clock (getrusage): immune to preemption by other processes.
      const cpu = await measure(decide, { ...opts, now: cpuNowNs });
      close();
      const us = (ns: number) => (ns / 1000).toFixed(1);
      rows.push(
        `| ${index} | ${n} | ${chars / 1000}k | ${us(wall.p50)} | ${us(wall.p99)} | ${us(cpu.p50)} | ${us(cpu.avg)} | ${us(cpu.p99)} | ${wall.samples.length} |`,
      );
      console.log(rows.at(-1));
    }
  }
}
console.log(
  "\n| prefix index | endpoints | prompt chars | wall p50 µs | wall p99 µs | CPU p50 µs | CPU mean µs | CPU p99 µs | samples |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
