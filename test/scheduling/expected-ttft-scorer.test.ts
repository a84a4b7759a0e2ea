import assert from "node:assert/strict";
import { test } from "node:test";
import type { EngineCounters } from "../../src/modelserver/endpoint-metrics.ts";
import { buildEndpointPickerConfig } from "../../src/scheduling/endpoint-picker-config.ts";
import { EngineCostLearner } from "../../src/scheduling/engine-costs.ts";
import {
  DEFAULT_ENGINE_COSTS,
  ExpectedTtftScorer,
} from "../../src/scheduling/plugins/scorers/expected-ttft-scorer.ts";
import { PrefixCacheScorer } from "../../src/scheduling/plugins/scorers/prefix-cache-scorer.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { candidate, engineCounters, request } from "./fixtures.ts";

const system = "s".repeat(8000); // 2,000 estimated tokens
const ask = (q: string) => request({ prefixText: `${system}${q}`, promptTokens: 2100 }); // + 100 unique

function best(s: ExpectedTtftScorer, r: ReturnType<typeof request>, cs: Candidate[]): Candidate {
  const scores = s.score(r, cs);
  return cs[scores.indexOf(Math.max(...scores))]!;
}

test("cached but queued vs idle: the lower expected wait wins, not a fixed weight", () => {
  const prefix = new PrefixCacheScorer();
  const s = new ExpectedTtftScorer("ttft", prefix);
  const holder = candidate({ waiting: 1, numGpuBlocks: 10_000, blockSize: 16 });
  const idle = candidate({ numGpuBlocks: 10_000, blockSize: 16 });
  prefix.preRequest(ask("first"), holder);
  // holder: 2 × 100 uncached + 1 waiting × 1,000 = 1,200 token-costs; idle: 2 × 2,100.
  assert.equal(best(s, ask("second"), [holder, idle]), holder);
  const { ttft, uncached } = s.estimate(ask("third"), [holder, idle]);
  assert.ok(uncached[0]! <= 100 && uncached[1] === 2100, JSON.stringify(uncached));
  // Uncached tokens count twice (recomputePenalty 1): 4,200 token-costs on the idle one.
  assert.ok(Math.abs(ttft[1]! - 4200 * DEFAULT_ENGINE_COSTS.prefillSecondsPerToken) < 1e-12);
  // Five waiting there: 200 + 5,000 token-costs > 4,200 on the idle one.
  const queued = candidate({ id: holder.endpoint.id, waiting: 5, numGpuBlocks: 10_000, blockSize: 16 });
  assert.equal(best(s, ask("fourth"), [queued, idle]), idle);
  // Decode load counts too: 20 running requests add 20 × 100 µs = 2 ms there.
  const a = candidate();
  const b = candidate({ running: 20 });
  assert.equal(best(s, request({ prefixText: "unique" }), [a, b]), a);
});

test("a burst between two scrapes spreads by the work the gateway itself sent (no herding)", () => {
  const s = new ExpectedTtftScorer();
  const cs = [candidate(), candidate(), candidate()];
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const r = request({ prefixText: `unique prompt ${i} `.repeat(50), promptTokens: 250 });
    const chosen = best(s, r, cs);
    s.preRequest(r, chosen);
    (chosen.inFlight as { requests: number }).requests++; // the director's in-flight count
    counts.set(chosen.endpoint.id, (counts.get(chosen.endpoint.id) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()].sort(), [10, 10, 10]);
});

test("a shared prefix stays together in a burst until its queue outweighs recomputing it elsewhere", () => {
  const s = new ExpectedTtftScorer();
  const cs = [candidate(), candidate(), candidate()];
  const counts = new Map<string, number>();
  for (let i = 0; i < 6; i++) {
    const r = ask(`q${i}`);
    const chosen = best(s, r, cs);
    s.preRequest(r, chosen);
    (chosen.inFlight as { requests: number }).requests++;
    counts.set(chosen.endpoint.id, (counts.get(chosen.endpoint.id) ?? 0) + 1);
  }
  // Elsewhere a follower would recompute 2,100 tokens (× 2); here it waits for the first request and
  // adds ~100, so the group stays put…
  assert.deepEqual([...counts.values()], [6]);
  // …until the work queued there outweighs it, and then the group spills onto other endpoints.
  for (let i = 6; i < 30; i++) {
    const r = ask(`q${i}`);
    const chosen = best(s, r, cs);
    s.preRequest(r, chosen);
    (chosen.inFlight as { requests: number }).requests++;
    counts.set(chosen.endpoint.id, (counts.get(chosen.endpoint.id) ?? 0) + 1);
  }
  assert.ok(counts.size >= 2, JSON.stringify([...counts.values()]));
});

test("costs are learned from scrape deltas per endpoint; others get the pool's mean, then defaults", () => {
  const l = new EngineCostLearner(DEFAULT_ENGINE_COSTS);
  const at = (updatedAt: number, c: Partial<EngineCounters>, running = 4) =>
    candidate({ id: "10.1.0.1:8000", updatedAt, running, counters: engineCounters(c) });
  l.observe(at(1, {}));
  assert.deepEqual(l.costs("10.1.0.1:8000"), DEFAULT_ENGINE_COSTS, "one scrape: nothing to compare yet");
  // 10 requests computed 5,000 tokens in 0.25 s of prefill; 100 output tokens took 2 s at 4 running.
  l.observe(
    at(2, {
      prefillSeconds: 0.25,
      prefilledRequests: 10,
      computedPromptTokens: 5000,
      tpotSeconds: 2,
      tpotCount: 100,
    }),
  );
  const k = l.costs("10.1.0.1:8000");
  assert.ok(Math.abs(k.prefillSecondsPerToken - 50e-6) < 1e-12);
  assert.equal(k.computedTokensPerRequest, 500);
  assert.ok(Math.abs(k.decodeSecondsPerRunning - 0.005) < 1e-12);
  assert.deepEqual(l.costs("10.1.0.2:8000"), k, "an endpoint with nothing learned gets the pool's mean");
  // The same scrape again changes nothing; a server restart (counters fell) resets the baseline.
  l.observe(at(2, { prefillSeconds: 99, prefilledRequests: 99, computedPromptTokens: 99 }));
  l.observe(at(3, {}));
  assert.deepEqual(l.costs("10.1.0.1:8000"), k);
  l.remove("10.1.0.1:8000");
  // The unit costs are the pool's (they outlive the endpoint); its tokens per request are not.
  assert.deepEqual(l.costs("10.1.0.2:8000"), {
    ...DEFAULT_ENGINE_COSTS,
    prefillSecondsPerToken: k.prefillSecondsPerToken,
    decodeSecondsPerRunning: k.decodeSecondsPerRunning,
  });
});

test("the unit costs are one pool value: a busy endpoint's low cost per running request is not its own", () => {
  const l = new EngineCostLearner(DEFAULT_ENGINE_COSTS);
  const at = (id: string, updatedAt: number, running: number, c: Partial<EngineCounters>) =>
    candidate({ id, updatedAt, running, counters: engineCounters(c) });
  l.observe(at("10.2.0.1:8000", 1, 30, {}));
  l.observe(at("10.2.0.2:8000", 1, 1, {}));
  // 100 tokens each: 11.75 ms per token at 30 running (0.39 ms each), 5.95 ms at 1 running.
  l.observe(
    at("10.2.0.1:8000", 2, 30, {
      tpotSeconds: 1.175,
      tpotCount: 100,
      prefilledRequests: 4,
      computedPromptTokens: 400,
      prefillSeconds: 0.04,
    }),
  );
  l.observe(
    at("10.2.0.2:8000", 2, 1, {
      tpotSeconds: 0.595,
      tpotCount: 100,
      prefilledRequests: 1,
      computedPromptTokens: 1000,
      prefillSeconds: 0.02,
    }),
  );
  const busy = l.costs("10.2.0.1:8000");
  const idle = l.costs("10.2.0.2:8000");
  assert.equal(busy.decodeSecondsPerRunning, idle.decodeSecondsPerRunning);
  assert.equal(busy.prefillSecondsPerToken, idle.prefillSecondsPerToken);
  assert.ok(busy.decodeSecondsPerRunning > 0.0039 / 2 && busy.decodeSecondsPerRunning < 0.00595);
  assert.equal(busy.computedTokensPerRequest, 100, "tokens per request stay the endpoint's own");
  assert.equal(idle.computedTokensPerRequest, 1000);
});

test("each scrape weighs by what it measured: one token caught in a prefill step does not outweigh 500 decodes", () => {
  const l = new EngineCostLearner(DEFAULT_ENGINE_COSTS);
  const id = "10.1.0.3:8000";
  const at = (updatedAt: number, c: Partial<EngineCounters>, running: number) =>
    candidate({ id, updatedAt, running, counters: engineCounters(c) });
  l.observe(at(1, {}, 0));
  // The first output token came after a 282 ms prefill step, 11 running: 25.6 ms per running request.
  l.observe(at(2, { tpotSeconds: 0.282, tpotCount: 1 }, 11));
  // Then 521 decode gaps in 16.18 s at 12 running: 2.6 ms each.
  l.observe(at(3, { tpotSeconds: 16.462, tpotCount: 522 }, 12));
  const perRunning = l.costs(id).decodeSecondsPerRunning;
  const expected = (0.8 * (0.282 / 11) + 16.18 / 12) / (0.8 * 1 + 521);
  assert.ok(Math.abs(perRunning - expected) < 1e-12, `${perRunning}`);
  assert.ok(perRunning < 0.0027, "an equal-weight mean of the two samples would say 21 ms");
});

test("EndpointPickerConfig: over a declared precise or approximate prefix scorer; a bad reference names the field", () => {
  const epc = (plugins: unknown[]) =>
    buildEndpointPickerConfig({
      apiVersion: "inference.networking.x-k8s.io/v1alpha1",
      kind: "EndpointPickerConfig",
      plugins,
    });
  const built = epc([
    { type: "prefix-cache-scorer", name: "p" },
    { type: "expected-ttft-scorer", parameters: { prefixScorer: "p" } },
  ]);
  const s = built.plugins.get("expected-ttft-scorer") as ExpectedTtftScorer;
  assert.equal(s.prefix, built.plugins.get("p"));
  assert.ok(
    (epc([{ type: "expected-ttft-scorer" }]).plugins.get("expected-ttft-scorer") as ExpectedTtftScorer)
      .prefix,
  );
  assert.throws(
    () => epc([{ type: "expected-ttft-scorer", parameters: { prefixScorer: "nope" } }]),
    /parameters\.prefixScorer.*no plugin named "nope"/s,
  );
  assert.throws(
    () =>
      epc([
        { type: "queue-scorer" },
        { type: "expected-ttft-scorer", parameters: { prefixScorer: "queue-scorer" } },
      ]),
    /is a queue-scorer, not a prefix-cache-scorer/,
  );
});

test("a queue held back by KV or slots: its wait is learned from the admission rate while requests wait", () => {
  const l = new EngineCostLearner(DEFAULT_ENGINE_COSTS);
  const id = "10.2.0.1:8000";
  const at = (updatedAt: number, prefilled: number, waiting: number) =>
    candidate({ id, updatedAt, waiting, counters: engineCounters({ prefilledRequests: prefilled }) });
  l.observe(at(1000, 0, 0));
  l.observe(at(2000, 50, 0)); // no queue: says nothing about how fast a queue clears
  assert.equal(l.costs(id).admissionsPerSecond, 0);
  l.observe(at(2500, 52, 6)); // 2 admitted in 0.5 s with 6 waiting
  assert.equal(l.costs(id).admissionsPerSecond, 4);
  // The scorer: 6 waiting at 4/s ≈ 1.5 s there, far more than their prefill tokens would take.
  const s = new ExpectedTtftScorer();
  s.learner.observe(at(1000, 0, 0));
  s.learner.observe(at(2500, 2, 6));
  const blocked = at(2500, 2, 6);
  const { ttft } = s.estimate(request({ prefixText: "x" }), [blocked]);
  assert.ok(ttft[0]! > 1.4, `${ttft[0]}`);
});
