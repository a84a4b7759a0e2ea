import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { BlockKeyChain } from "../../src/kvcache/block-key-chain.ts";
import { blockStoredOf, type KvCacheEvent } from "../../src/kvcache/kv-events.ts";
import { ResidentBlocks } from "../../src/kvcache/resident-blocks.ts";
import { simTokenIds } from "../../src/kvcache/sim-token-ids.ts";
import { SpeculativeBlocks } from "../../src/kvcache/speculative-blocks.ts";
import { blockKey, externalBlockKey, VllmBlockHasher } from "../../src/kvcache/vllm-block-hash.ts";
import { buildEndpointPickerConfig } from "../../src/scheduling/endpoint-picker-config.ts";
import {
  PrecisePrefixCacheScorer,
  type PrecisePrefixCacheScorerOptions,
  precisePrefixCacheScorerPlugin,
} from "../../src/scheduling/plugins/scorers/precise-prefix-cache-scorer.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { tokenize } from "../../src/sim/tokenizer.ts";
import { candidate, request } from "./fixtures.ts";

test("simTokenIds is the simulator's tokenizer (words split on any whitespace), capped", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom("a", "b", "é", " ", "\n", "\t", "\u00a0", "\u3000", "x") }),
      (s) => {
        assert.deepEqual(simTokenIds(s), tokenize(s));
      },
    ),
    { numRuns: 300 },
  );
  assert.deepEqual(simTokenIds("a b c d", 2), tokenize("a b"));
});

test("block keys: vLLM's chain (full blocks only, LoRA name mixed in), memoised without changing them", () => {
  const hasher = new VllmBlockHasher("sha256", "0");
  const chain = new BlockKeyChain(hasher, 8);
  const tokens = Array.from({ length: 100 }, (_, i) => (i * 7919) % 50_000);
  const expected = hasher.blockHashes(tokens, 16, null, null).map(blockKey);
  assert.equal(expected.length, 6);
  assert.deepEqual(chain.keys(tokens, 16, null, 256), expected);
  assert.deepEqual(chain.keys(tokens, 16, null, 256), expected, "from the memo");
  assert.deepEqual(chain.keys(tokens, 16, null, 4), expected.slice(0, 4));
  const lora = hasher.blockHashes(tokens, 16, "adapter", null).map(blockKey);
  assert.deepEqual(chain.keys(tokens, 16, "adapter", 256), lora);
  assert.notEqual(lora[0], expected[0]);
  // Another block size, and a different token in block 2: blocks 0–1 shared, the rest differ.
  assert.deepEqual(
    chain.keys(tokens, 32, null, 256),
    hasher.blockHashes(tokens, 32, null, null).map(blockKey),
  );
  const other = [...tokens];
  other[40] = 1;
  const k = chain.keys(other, 16, null, 256);
  assert.deepEqual(k.slice(0, 2), expected.slice(0, 2));
  assert.notEqual(k[2], expected[2]);
  assert.ok(chain.memoSize <= 8, "the memo is bounded");
});

const stored = (hashes: bigint[], medium: string | null = "GPU") => blockStoredOf(hashes, 16, medium);

test("resident blocks: stored adds, removed removes (copies counted), cleared empties; other tiers ignored; bounded", () => {
  const r = new ResidentBlocks(3);
  const batch = (...events: KvCacheEvent[]) => ({ ts: 0, events, dataParallelRank: null });
  const key = (h: bigint) => externalBlockKey(h);
  r.apply(batch(stored([1n, 2n]), stored([9n], "CPU")));
  assert.equal(r.leadingHeld([key(1n), key(2n), key(3n)]), 2);
  assert.equal(r.has(key(9n)), false, "CPU-tier blocks are not GPU hits");
  r.apply(batch({ type: "BlockRemoved", blockHashes: [1n], medium: "GPU", groupIdx: null }));
  assert.equal(r.leadingHeld([key(1n), key(2n)]), 0);
  r.apply(batch(stored([3n, 4n, 5n])));
  assert.equal(r.size, 3, "bounded: the oldest stored went first");
  assert.equal(r.has(key(2n)), false);
  r.apply(batch({ type: "AllBlocksCleared" }));
  assert.equal(r.size, 0);
  // Two requests computed the same prefix at once: two copies cached, each evicted on its own.
  r.apply(batch(stored([7n]), stored([7n])));
  const removed = { type: "BlockRemoved" as const, blockHashes: [7n], medium: "GPU", groupIdx: null };
  r.apply(batch(removed));
  assert.equal(r.has(key(7n)), true, "one copy is still cached");
  r.apply(batch(removed));
  assert.equal(r.has(key(7n)), false);
  r.apply(batch(removed));
  assert.equal(r.size, 0, "a removal of a block never stored changes nothing");
});

function words(n: number, tag: string): string {
  return Array.from({ length: n }, (_, i) => `${tag}${i}`).join(" ");
}

async function complete(url: string, prompt: string): Promise<void> {
  const r = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", prompt, max_tokens: 4 }),
  });
  assert.equal(r.status, 200, await r.text());
}

test("scores what each simulated server's KV events say it holds; falls back to approximate when events stop", async () => {
  const sim = await startSimulator({
    model: "m",
    replicas: 2,
    port: 0,
    hashSeed: "0",
    kvEventsConfig: {
      enable_kv_cache_events: true,
      publisher: "zmq",
      endpoint: "tcp://127.0.0.1:*",
      replay_endpoint: null,
      buffer_steps: 1000,
      hwm: 100_000,
      max_queue_size: 100_000,
      topic: "",
    },
  });
  const ids = sim.urls.map((u) => new URL(u).host);
  const [a, b] = ids.map((id) => candidate({ id, blockSize: 16, numGpuBlocks: 1000 }));
  const silent = candidate({ id: "127.0.0.1:9", blockSize: 16 }); // events endpoint nobody publishes on
  const scorer = new PrecisePrefixCacheScorer("precise", {
    ...(precisePrefixCacheScorerPlugin.parameters.parse({
      hashSeed: "0",
      staleAfterMs: 300,
    }) as PrecisePrefixCacheScorerOptions),
    kvEventsEndpoints: {
      [ids[0]!]: sim.replicas[0]!.kvEvents!.endpoint,
      [ids[1]!]: sim.replicas[1]!.kvEvents!.endpoint,
      [silent.endpoint.id]: "tcp://127.0.0.1:9",
    },
  });
  try {
    const shared = words(160, "sys"); // 10 blocks of 16 tokens
    // Subscribe first (ZMQ drops what a PUB sends before the SUB connected), then fill replica 0.
    assert.deepEqual(scorer.score(request({ prefixText: `${shared} q0` }), [a!, b!]), [0, 0]);
    await sleep(200);
    await complete(sim.urls[0]!, `${shared} first question`);
    let s: number[] = [];
    for (let i = 0; i < 50; i++) {
      s = scorer.score(request({ prefixText: `${shared} second question` }), [a!, b!]);
      if (s[0]! > 0) break;
      await sleep(50);
    }
    // 162 tokens = 10 full blocks, all 10 held by replica 0 (the prompt's own blocks were stored).
    assert.deepEqual(s, [1, 0]);
    const m = scorer.prefixMatch(request({ prefixText: `${shared} second question` }), [a!, b!]);
    assert.deepEqual(m, { promptTokens: 162, cachedTokens: [160, 0] });
    assert.ok(scorer.tracker.batches(ids[0]!) > 0);
    assert.ok(scorer.pluginMetrics().prefixIndex!.indexSize >= 10);

    // The silent endpoint: live (nothing pending) until work was sent and no events followed.
    const r = request({ prefixText: shared });
    assert.deepEqual(scorer.score(r, [silent]), [0]);
    scorer.preRequest(r, silent);
    assert.deepEqual(
      scorer.score(request({ prefixText: shared }), [silent]),
      [1],
      "still trusted, and the blocks just sent count as held until events confirm them",
    );
    await sleep(400);
    assert.equal(scorer.tracker.live(silent.endpoint.id), false);
    const [fallback] = scorer.score(request({ prefixText: shared }), [silent]);
    assert.ok(fallback! > 0.9, `the approximate index learned the decision (${fallback})`);
    assert.equal(scorer.tracker.live(ids[0]!), true, "replica 0's events kept flowing");

    scorer.endpointRemoved(ids[0]!);
    assert.equal(scorer.tracker.batches(ids[0]!), 0);
  } finally {
    scorer.close();
    await sim.close();
  }
  // After close nothing subscribes again (a retry of a request still in flight).
  assert.deepEqual(scorer.score(request({ prefixText: "x y z" }), [a!]), [0]);
  assert.equal(scorer.tracker.batches(ids[0]!), 0);
});

test("EndpointPickerConfig: the plugin builds; a missing hashSeed or a bad endpoint names the field", () => {
  const built = buildEndpointPickerConfig({
    apiVersion: "inference.networking.x-k8s.io/v1alpha1",
    kind: "EndpointPickerConfig",
    plugins: [
      { type: "precise-prefix-cache-scorer", parameters: { hashSeed: "0", kvEventsPort: 5557 } },
      { type: "max-score-picker" },
    ],
    schedulingProfiles: [
      {
        name: "default",
        plugins: [{ pluginRef: "precise-prefix-cache-scorer", weight: 1 }, { pluginRef: "max-score-picker" }],
      },
    ],
  });
  const p = built.plugins.get("precise-prefix-cache-scorer") as PrecisePrefixCacheScorer;
  assert.deepEqual(p.sourceFor("10.0.0.5:8000", "10.0.0.5"), {
    endpoint: "tcp://10.0.0.5:5557",
    replayEndpoint: null,
  });
  p.close();
  // An endpoint whose socket cannot be made (here a malformed address) is scored approximately, never thrown on.
  const broken = new PrecisePrefixCacheScorer("p", {
    ...(precisePrefixCacheScorerPlugin.parameters.parse({
      hashSeed: "0",
    }) as PrecisePrefixCacheScorerOptions),
    kvEventsEndpoints: { "10.9.9.9:8000": "tcp://no-port" },
  });
  const c = candidate({ id: "10.9.9.9:8000" });
  const r = request({ prefixText: words(40, "b") });
  broken.preRequest(r, c);
  assert.equal(broken.tracker.live(c.endpoint.id), false);
  assert.ok(broken.score(request({ prefixText: words(40, "b") }), [c])[0]! > 0.9);
  broken.close();
  const bad = (parameters: unknown) => () =>
    buildEndpointPickerConfig({
      apiVersion: "inference.networking.x-k8s.io/v1alpha1",
      kind: "EndpointPickerConfig",
      plugins: [{ type: "precise-prefix-cache-scorer", parameters }],
    });
  assert.throws(bad({}), /hashSeed is required/);
  assert.throws(
    bad({ hashSeed: "0", kvEventsEndpoints: { "a:1": "http://x" } }),
    /kvEventsEndpoints.*ZMQ endpoint/s,
  );
});

test("speculative blocks: sent blocks count until events confirm them or they expire; events then rule", () => {
  const spec = new SpeculativeBlocks(1000, 100);
  const resident = new ResidentBlocks(100);
  spec.add([1, 2, 3], 0);
  assert.equal(spec.leadingHeld([1, 2, 3, 4], resident, 500), 3);
  assert.equal(spec.leadingHeld([1, 2, 3], resident, 1000), 0, "expired");
  spec.add([1, 2], 2000);
  resident.apply({ ts: 0, events: [stored([1n])], dataParallelRank: null }); // key 1
  assert.equal(spec.leadingHeld([1, 2], resident, 2100), 2, "1 by the events, 2 still pending");
  assert.equal(spec.size, 1, "a confirmed block is left to the events");
  resident.apply({
    ts: 0,
    events: [{ type: "BlockRemoved", blockHashes: [1n], medium: "GPU", groupIdx: null }],
    dataParallelRank: null,
  });
  assert.equal(spec.leadingHeld([1, 2], resident, 2200), 0, "so its removal counts");
  const bounded = new SpeculativeBlocks(1000, 2);
  bounded.add([1, 2, 3], 0);
  assert.equal(bounded.size, 2);
});

/** A precise scorer whose two endpoints' events never come (a silent publisher), and those endpoints. */
function twoEndpoints(blockSize: number) {
  const scorer = new PrecisePrefixCacheScorer("precise", {
    ...(precisePrefixCacheScorerPlugin.parameters.parse({
      hashSeed: "0",
    }) as PrecisePrefixCacheScorerOptions),
    kvEventsEndpoints: { "10.7.0.1:8000": "tcp://127.0.0.1:9", "10.7.0.2:8000": "tcp://127.0.0.1:9" },
  });
  const a = candidate({ id: "10.7.0.1:8000", blockSize });
  const b = candidate({ id: "10.7.0.2:8000", blockSize });
  return { scorer, a, b };
}

test("requests that share a request id (clients reuse x-request-id) are scored on their own prompts", () => {
  // The issue-12 defect: the per-request memo was keyed by requestId, and bench:routing's classes
  // number their requests alike (group-0's request 3 and group-5's request 3 are both "…-3"). Under
  // Poisson arrivals such requests are scheduled back to back, and the second was scored, and its
  // blocks recorded as sent, with the first one's tokens: hit rate fell to round robin's.
  const { scorer, a, b } = twoEndpoints(16);
  try {
    const groupA = request({ requestId: "routing-3", prefixText: `${words(64, "ga")} qa` });
    assert.deepEqual(scorer.score(groupA, [a, b]), [0, 0]);
    scorer.preRequest(groupA, a);
    const groupB = request({ requestId: "routing-3", prefixText: `${words(64, "gb")} qb` });
    assert.deepEqual(scorer.score(groupB, [a, b]), [0, 0], "group B was never sent anywhere");
    assert.deepEqual(scorer.prefixMatch(groupB, [a, b]).cachedTokens, [0, 0]);
    scorer.preRequest(groupB, b);
    const again = request({ requestId: "routing-3", prefixText: `${words(64, "ga")} qc` });
    assert.deepEqual(scorer.score(again, [a, b]), [1, 0], "group A's blocks were sent to a");
    const bAgain = request({ requestId: "routing-3", prefixText: `${words(64, "gb")} qd` });
    assert.deepEqual(scorer.score(bAgain, [a, b]), [0, 1], "group B's to b");
  } finally {
    scorer.close();
  }
});

test("prepared requests: each keeps its own tokens; the decision matches what it prepared, whatever order", () => {
  // The director prepares a request before it queues, so several are prepared before the first is
  // scheduled, all with one client request id. A preparation reused across requests (keyed by id,
  // or the scorer's last one) would score one request with another's blocks.
  // Block size 32 on the servers: nothing scraped it before the first preparations (default 16).
  const { scorer, a, b } = twoEndpoints(32);
  try {
    const ask = (group: string, q: string) =>
      request({ requestId: "same-id", prefixText: `${words(96, group)} ${q}` });
    const first = [ask("ga", "q1"), ask("gb", "q2")];
    for (const r of first) scorer.prepareRequest(r);
    // Prepared for 256 blocks of 16 tokens; decided for 256 blocks of 32: counted again, in full.
    const long = request({ requestId: "same-id", prefixText: words(5000, "long") });
    scorer.prepareRequest(long);
    scorer.preRequest(first[1]!, b); // group B sent to b first (no decision: prepared alone)
    assert.deepEqual(scorer.prefixMatch(first[1]!, [a, b]).promptTokens, 97);
    scorer.preRequest(first[0]!, a);
    const later = [ask("gb", "q3"), ask("ga", "q4"), ask("gc", "q5")];
    for (const r of later) scorer.prepareRequest(r);
    assert.deepEqual(scorer.score(later[1]!, [a, b]), [1, 0], "group A's blocks, at block size 32");
    assert.deepEqual(scorer.score(later[0]!, [a, b]), [0, 1], "group B's");
    assert.deepEqual(scorer.score(later[2]!, [a, b]), [0, 0], "group C was sent nowhere");
    assert.equal(scorer.prefixMatch(long, [a, b]).promptTokens, 5000);
    // The same as without any preparation.
    const unprepared = ask("ga", "q4");
    assert.deepEqual(scorer.score(unprepared, [a, b]), scorer.score(later[1]!, [a, b]));
    assert.deepEqual(scorer.prefixMatch(unprepared, [a, b]), scorer.prefixMatch(later[1]!, [a, b]));
  } finally {
    scorer.close();
  }
});
