/**
 * Decision-cost microbenchmark (`npm run bench:scheduler`) over N endpoints with varied load and a
 * warm prefix index, for prompts of 4k and 32k characters (¾ one of 16 shared system prompts, ¼ a
 * question no earlier request had), of two schedulers: the default scorer profile (the
 * expected-TTFT cost model over the approximate prefix index, max-score picker with 2 fallbacks),
 * and the cost model over the precise prefix index (precise-prefix-cache-scorer: simulator
 * tokenizer, vLLM block-hash chain, resident blocks filled as the servers' KV events would fill
 * them; its ZMQ subscriptions point nowhere and stay silent).
 *
 * Two costs per request, measured apart, as the director pays them apart:
 * - preparation = the scheduler's prepare() (the request preparers: tokenizing, block hashes), once
 *   per request before it queues;
 * - decision = schedule() + preRequest() of a prepared request (matching against the endpoints,
 *   scoring, picking, recording the choice).
 * Each sample is one call (the fresh request is built outside the timed part), so p99 is a
 * per-request p99: on the wall clock; on the wall clock over the samples the kernel did not
 * preempt (a shared machine's wall-clock tail is other processes' time slices); and on the process
 * CPU clock (not inflated by other processes, but it counts V8's GC helper threads' work too).
 *
 * Usage: npm run bench:scheduler -- [--index=approximate|precise] [--endpoints=10,100,1000]
 *          [--chars=4000,32000]   (a subset of the cases, e.g. for `node --cpu-prof`)
 */
import { loadavg } from "node:os";
import { BlockKeyChain } from "../src/kvcache/block-key-chain.ts";
import { blockStoredOf } from "../src/kvcache/kv-events.ts";
import { simTokenIds } from "../src/kvcache/sim-token-ids.ts";
import { VllmBlockHasher } from "../src/kvcache/vllm-block-hash.ts";
import { emptyMetrics } from "../src/modelserver/endpoint-metrics.ts";
import { costModelProfile, defaultScorerProfiles } from "../src/scheduling/default-profiles.ts";
import {
  PrecisePrefixCacheScorer,
  type PrecisePrefixCacheScorerOptions,
  precisePrefixCacheScorerPlugin,
} from "../src/scheduling/plugins/scorers/precise-prefix-cache-scorer.ts";
import { ProfileScheduler } from "../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../src/scheduling/random.ts";
import type { Candidate, SchedulingRequest } from "../src/scheduling/types.ts";

const rng = seededRng(42);

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

/** GROUPS shared system prompts (3/4 of the text each). */
function systemPrompts(chars: number): string[] {
  const shared = Math.floor((chars * 3) / 4);
  return Array.from({ length: GROUPS }, (_, g) => text(shared, g + 1));
}

/** Request i: system prompt i % GROUPS + a question of its own (i ≥ 0; each i once per run). */
function request(systems: readonly string[], chars: number, i: number): SchedulingRequest {
  const system = systems[i % GROUPS]!;
  return {
    requestId: `r${chars}-${i}`,
    targetModel: "llama-3-8b",
    isAdapter: false,
    priority: 0,
    prefixText: system + text(chars - system.length, 1000 + i),
    promptTokens: chars / 4,
    headers: {},
  };
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
  const { profile, ttft, hooks } = costModelProfile("precise", precise, seededRng(1));
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
    scheduler: new ProfileScheduler({
      profiles: [profile],
      preparers: [ttft, precise],
      preRequestHooks: hooks,
    }),
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

/** Per-sample timings of one kind of call. */
interface Samples {
  /** Wall-clock µs of each sample. */
  readonly wall: number[];
  /** Process CPU µs (user + system, all threads: GC helper threads too) of each sample. */
  readonly cpu: number[];
  /** Wall-clock µs of the samples the kernel did not preempt (no involuntary context switch). */
  readonly unpreempted: number[];
}

/**
 * Runs `setup` then `timed` (only `timed` is measured) until 0.5 s of timed work and at least
 * 2,000 samples, at most 20,000. A sample during which the process was preempted (its involuntary
 * context-switch count moved) is kept on both clocks, and also left out of `unpreempted`: on a
 * shared machine that wall-clock tail is the kernel's, not the code's.
 */
function sample<T>(setup: () => T, timed: (x: T) => void): Samples {
  const out: Samples = { wall: [], cpu: [], unpreempted: [] };
  let total = 0;
  while (out.wall.length < 20_000 && (total < 500_000 || out.wall.length < 2_000)) {
    const x = setup();
    const u0 = process.resourceUsage();
    const t0 = performance.now();
    timed(x);
    const t1 = performance.now();
    const u1 = process.resourceUsage();
    const wall = (t1 - t0) * 1000;
    total += wall;
    out.wall.push(wall);
    out.cpu.push(u1.userCPUTime + u1.systemCPUTime - u0.userCPUTime - u0.systemCPUTime);
    if (u1.involuntaryContextSwitches === u0.involuntaryContextSwitches) out.unpreempted.push(wall);
  }
  return out;
}

/** The q-quantile (0..1) of xs, by the nearest rank. */
function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** One case: the preparation and the decision of fresh requests (each i once), measured apart. */
function measureCase(
  scheduler: ProfileScheduler,
  systems: readonly string[],
  chars: number,
  first: number,
): { prep: Samples; decision: Samples } {
  let i = first;
  const prep = sample(
    () => request(systems, chars, i++),
    (r) => scheduler.prepare(r),
  );
  const decision = sample(
    () => {
      const r = request(systems, chars, i++);
      scheduler.prepare(r);
      return r;
    },
    (r) => {
      const res = scheduler.schedule(r, cs);
      scheduler.preRequest(r, res.endpoints[0]!);
    },
  );
  return { prep, decision };
}

let cs: Candidate[] = [];

const rows: string[] = [];
for (const index of INDEXES) {
  for (const n of ENDPOINTS) {
    for (const chars of CHARS) {
      cs = candidates(n);
      let scheduler: ProfileScheduler;
      let learn: (r: SchedulingRequest, c: Candidate) => void = () => {};
      let close = () => {};
      if (index === "approximate") {
        const { profile, preparers, hooks } = defaultScorerProfiles(seededRng(1));
        scheduler = new ProfileScheduler({ profiles: [profile], preparers, preRequestHooks: hooks });
      } else ({ scheduler, learn, close } = preciseScheduler());
      const systems = systemPrompts(chars);
      // Warm the index: 512 earlier requests, as a running gateway would have seen.
      for (let k = 0; k < 512; k++) {
        const r = request(systems, chars, k);
        scheduler.prepare(r);
        const chosen = scheduler.schedule(r, cs).endpoints[0]!;
        scheduler.preRequest(r, chosen);
        learn(r, chosen);
      }
      const { prep, decision } = measureCase(scheduler, systems, chars, 512);
      close();
      const f = (xs: readonly number[], q: number) => quantile(xs, q).toFixed(1);
      const d = decision;
      rows.push(
        `| ${index} | ${n} | ${chars / 1000}k | ${f(d.wall, 0.5)} | ${f(d.wall, 0.99)} | ${f(d.unpreempted, 0.99)} | ${f(d.cpu, 0.5)} | ${f(d.cpu, 0.99)} | ${f(prep.wall, 0.5)} | ${f(prep.unpreempted, 0.99)} | ${f(prep.cpu, 0.5)} | ${f(prep.cpu, 0.99)} | ${d.wall.length} (${d.wall.length - d.unpreempted.length}) |`,
      );
      console.log(rows.at(-1));
    }
  }
}
console.log(
  `\n${new Date().toISOString()}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}, Node ${process.version}\n` +
    "| prefix index | endpoints | prompt chars | decision wall p50 µs | wall p99 µs | wall p99 unpreempted µs | CPU p50 µs | CPU p99 µs | preparation wall p50 µs | wall p99 unpreempted µs | CPU p50 µs | CPU p99 µs | decision samples (preempted) |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
