/** bench/virtual-pool.ts: dispatch and response timing, in-flight charges, scrapes, and KV events reaching a precise index. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../bench/virtual-clock.ts";
import { VirtualPool, virtualPreciseScorer } from "../../bench/virtual-pool.ts";
import { simTokenIds } from "../../src/kvcache/sim-token-ids.ts";
import { defaultOptions } from "../../src/sim/options.ts";

const options = {
  ...defaultOptions(),
  profile: "h100-8b" as const,
  numGpuBlocksOverride: 500,
  hashSeed: "0",
};

test("a request is charged at once, reaches the engine a hop later, and its answers come back a hop after the engine's", () => {
  const clock = new VirtualClock();
  const pool = new VirtualPool({ clock, options, servers: 2, timeScale: 1, scrapeMs: 50, hopMs: 1 });
  const seen: string[] = [];
  let scrapedRunning = -1;
  clock.at(10, () => {
    pool.send(
      1,
      { id: "a", prompt: simTokenIds("x ".repeat(300)), maxTokens: 20, priority: 0 },
      {
        onFirstToken: () => seen.push(`first@${clock.now().toFixed(1)}`),
        onDone: () =>
          seen.push(`done@${clock.now().toFixed(1)} inflight=${pool.candidates[1]!.inFlight.requests}`),
      },
    );
    // KV charge: 300 prompt tokens + half of 20 (nothing finished yet, so max_tokens is the expected output).
    assert.deepEqual(pool.candidates[1]!.inFlight, { requests: 1, tokens: 320, kvTokens: 310 });
    assert.equal(pool.engines[1]!.hasWork(), false, "not at the engine before the hop");
  });
  clock.at(11.5, () => assert.equal(pool.engines[1]!.runningSeqs.length, 1));
  // The scrape of server 1 starts at 10 + 50 k and lands a hop later.
  clock.at(61.5, () => (scrapedRunning = pool.candidates[1]!.metrics.running));
  clock.run(() => seen.length === 2, 10_000);
  const first = Number(seen[0]!.split("@")[1]);
  const done = Number(seen[1]!.split("@")[1]!.split(" ")[0]);
  assert.ok(first > 12 && done > first, seen.join(", "));
  assert.match(seen[1]!, /inflight=0$/);
  assert.equal(pool.engines[0]!.stats.success.length, 0);
  assert.deepEqual(pool.finishedPerServer(), [0, 1]);
  assert.equal(scrapedRunning, done > 61 ? 1 : 0);
});

test("each step's KV events reach the listener a hop later, decoded as a subscriber decodes them: a precise index then holds the prompt", () => {
  const clock = new VirtualClock();
  const pool = new VirtualPool({
    clock,
    options,
    servers: 2,
    timeScale: 1,
    scrapeMs: 50,
    hopMs: 1,
    kvEvents: true,
  });
  const precise = virtualPreciseScorer(pool, clock, { speculativeTtlMs: 0 });
  const ids = pool.candidates.map((c) => c.endpoint.id);
  const text = Array.from({ length: 64 }, (_, i) => `w${i}`).join(" ");
  const req = {
    requestId: "r",
    targetModel: "m",
    isAdapter: false,
    priority: 0,
    prefixText: text,
    promptTokens: 64,
    headers: {},
  };
  assert.deepEqual(precise.score(req, pool.candidates), [0, 0]); // subscribes to both
  let done = false;
  pool.send(
    0,
    { id: "a", prompt: simTokenIds(text), maxTokens: 4, priority: 0 },
    { onDone: () => (done = true) },
  );
  clock.run(() => done, 10_000);
  assert.ok(precise.tracker.batches(ids[0]!) > 0);
  assert.equal(precise.tracker.batches(ids[1]!), 0);
  // 64 tokens = 4 full blocks stored; the engine leaves the last prompt token to compute, all cached now.
  assert.deepEqual(precise.score({ ...req }, pool.candidates), [1, 0]);
});
