// Herding of the scorer profile's cost model, reproduced without timing: consecutive decisions with
// no scrape in between, through the default profile (expected-ttft over the approximate prefix index,
// max-score picker), with the director's in-flight count raised for each dispatch.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EngineCounters } from "../../src/modelserver/endpoint-metrics.ts";
import { defaultScorerProfiles } from "../../src/scheduling/default-profiles.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Candidate, SchedulingRequest } from "../../src/scheduling/types.ts";
import { type CandidateSpec, candidate, request } from "./fixtures.ts";

function pool(specs: CandidateSpec[]): Candidate[] {
  return specs.map((s, i) =>
    candidate({ id: `10.9.0.${i}:8000`, numGpuBlocks: 10_000, blockSize: 16, ...s }),
  );
}

/** Schedules each request in turn with no scrape in between; returns requests per endpoint index. */
function dispatch(s: ProfileScheduler, cs: Candidate[], rs: SchedulingRequest[]): number[] {
  const counts = cs.map(() => 0);
  for (const r of rs) {
    const chosen = s.schedule(r, cs).endpoints[0]!;
    s.preRequest(r, chosen);
    (chosen.inFlight as { requests: number }).requests++; // what the director does on forward
    counts[cs.indexOf(chosen)]!++;
  }
  return counts;
}

function scheduler(seed: number): ProfileScheduler {
  const d = defaultScorerProfiles(seededRng(seed));
  return new ProfileScheduler({ profiles: [d.profile], handler: d.handler, preRequestHooks: d.hooks });
}

const unique = (n: number) =>
  Array.from({ length: n }, (_, i) => request({ prefixText: `unique prompt number ${i} `.repeat(40) }));

test("identical idle endpoints: 20 unique prompts between two scrapes spread (≤ ceil(20/5)+1 each)", () => {
  for (const seed of [1, 2, 3]) {
    const counts = dispatch(scheduler(seed), pool([{}, {}, {}, {}, {}]), unique(20));
    assert.ok(Math.max(...counts) <= 5, `seed ${seed}: ${counts}`);
  }
});

test("equal costs are broken at random: the first pick is not always the first endpoint", () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 20; seed++)
    firsts.add(dispatch(scheduler(seed), pool([{}, {}, {}, {}, {}]), unique(1)).indexOf(1));
  assert.ok(firsts.size >= 3, [...firsts].join(","));
});

/** Engine counters after `tokens` output tokens at `tpotMs` each, and 10 prefills of 1,000 tokens. */
function counters(tpotMs: number, tokens: number): EngineCounters {
  return {
    prefillSeconds: 10 * 0.0175,
    prefilledRequests: 10,
    computedPromptTokens: 10_000,
    tpotSeconds: (tpotMs / 1000) * tokens,
    tpotCount: tokens,
    generationTokens: 0,
    finishedRequests: 0,
  };
}

test("a busy endpoint whose learned per-request decode cost is low does not attract the burst", () => {
  // The simulator's step: 5.75 ms + ~0.2 ms per running request. Endpoint 0 was scraped with 30
  // running (11.75 ms per token, 0.39 ms per running request); the others with 1 (5.95 ms each).
  // Learned per endpoint, the busy one looked 15× cheaper per added request and took the burst.
  const s = scheduler(1);
  const zero = counters(0, 0);
  const specs = [0, 1, 2, 3, 4].map((i) => ({ running: i === 0 ? 30 : 1 }));
  const first = pool(
    specs.map((x) => ({
      ...x,
      updatedAt: 1,
      counters: { ...zero, prefillSeconds: 0, prefilledRequests: 0, computedPromptTokens: 0 },
    })),
  );
  s.schedule(request({ prefixText: "warm-up" }), first); // the learner's baseline scrape
  const cs = pool(
    specs.map((x, i) => ({ ...x, updatedAt: 2, counters: counters(i === 0 ? 11.75 : 5.95, 3000) })),
  );
  const counts = dispatch(s, cs, unique(20));
  assert.ok(counts[0]! <= 1, `the busy endpoint took ${counts[0]} of 20: ${counts}`);
  assert.ok(Math.max(...counts) <= 6, `${counts}`);
});

test("a shared prefix goes to its holder until the queue there makes an idle endpoint cheaper", () => {
  const s = scheduler(1);
  const cs = pool([{}, {}, {}, {}, {}]);
  const system = "s".repeat(8000); // 2,000 estimated tokens
  const ask = (q: string) => request({ prefixText: `${system}${q}`, promptTokens: 2100 });
  const holder = cs[2]!;
  s.preRequest(ask("seed"), holder); // the index believes endpoint 2 holds the prefix (scraped idle)
  const early = dispatch(
    s,
    cs,
    [0, 1, 2].map((i) => ask(`early ${i}`)),
  );
  assert.deepEqual(early, [0, 0, 3, 0, 0], "the group's first followers join the holder");
  const later = dispatch(
    s,
    cs,
    Array.from({ length: 27 }, (_, i) => ask(`later ${i}`)),
  );
  assert.ok(later.filter((n) => n > 0).length >= 2, `spilled once the holder queued: ${later}`);
  assert.ok(later[2]! < 27, `${later}`);
});
