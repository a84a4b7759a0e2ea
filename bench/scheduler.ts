/**
 * Decision-cost microbenchmark (`npm run bench:scheduler`): one decision = schedule() + preRequest()
 * of the default scorer profile (queue 2, kv 2, prefix 3, max-score picker with 2 fallbacks) over
 * N endpoints with varied load and a warm prefix index, for prompts of 4k and 32k characters.
 * mitata measures single calls (no batching), so p99 is a per-decision p99, once on the wall clock
 * and once on the process CPU clock (which a shared, overloaded machine does not inflate).
 */
import { measure } from "mitata";
import { emptyMetrics } from "../src/modelserver/endpoint-metrics.ts";
import { defaultScorerProfiles } from "../src/scheduling/default-profiles.ts";
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
      inFlight: { requests: Math.floor(rng() * 4), tokens: Math.floor(rng() * 8000) },
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

const rows: string[] = [];
for (const n of [10, 100, 1000]) {
  for (const chars of [4000, 32000]) {
    const cs = candidates(n);
    const { profile, hooks } = defaultScorerProfiles(seededRng(1));
    const scheduler = new ProfileScheduler({ profiles: [profile], preRequestHooks: hooks });
    const reqs = requests(512, chars);
    // Warm the index: every request once, as a running gateway would have.
    for (const r of reqs) scheduler.preRequest(r, scheduler.schedule(r, cs).endpoints[0]!);
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
    const us = (ns: number) => (ns / 1000).toFixed(1);
    rows.push(
      `| ${n} | ${chars / 1000}k | ${us(wall.p50)} | ${us(wall.p99)} | ${us(cpu.avg)} | ${us(cpu.p99)} | ${wall.samples.length} |`,
    );
    console.log(rows.at(-1));
  }
}
console.log(
  "\n| endpoints | prompt chars | wall p50 µs | wall p99 µs | CPU mean µs | CPU p99 µs | samples |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
