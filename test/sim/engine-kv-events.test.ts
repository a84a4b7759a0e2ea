import assert from "node:assert/strict";
import { test } from "node:test";
import type { BlockStored, KvCacheEvent } from "../../src/kvcache/kv-events.ts";
import { externalBlockHash, VllmBlockHasher } from "../../src/kvcache/vllm-block-hash.ts";
import { Engine, req, run, testConfig } from "./engine-helpers.ts";

/** Runs the engine until idle, collecting its KV events after every step (as the runner does). */
function drain(e: Engine): KvCacheEvent[] {
  const out: KvCacheEvent[] = [];
  run(e, undefined, () => out.push(...e.takeEvents()));
  return out;
}

const expected = (tokens: number[], lora: string | null = null, salt: string | null = null) =>
  new VllmBlockHasher("sha256", "0").blockHashes(tokens, 4, lora, salt).map(externalBlockHash);

const stored = (evs: KvCacheEvent[]) => evs.filter((x): x is BlockStored => x.type === "BlockStored");

test("BlockStored carries each newly full block with vLLM's hashes, parent link and token ids", () => {
  const e = new Engine(testConfig({ kvEvents: true }));
  const a = e.add(req("a", 10, 3), 0);
  const evs = drain(e);
  const s = stored(evs);
  const all = a.tokens.slice(0, 12); // 10 prompt + 2 fed-back outputs are computed; the last output is not
  const want = expected(all);
  assert.equal(s.length, 2, "one event for the prompt's blocks, one when output filled block 2");
  assert.deepEqual(s[0]!.blockHashes, want.slice(0, 2));
  assert.equal(s[0]!.parentBlockHash, null);
  assert.deepEqual(s[0]!.tokenIds, all.slice(0, 8));
  assert.deepEqual(s[0]!.extraKeys, [null, null]);
  assert.equal(s[0]!.blockSize, 4);
  assert.equal(s[0]!.medium, "GPU");
  assert.equal(s[0]!.loraId, null);
  assert.deepEqual(s[1]!.blockHashes, [want[2]]);
  assert.equal(s[1]!.parentBlockHash, want[1]);
  assert.deepEqual(s[1]!.tokenIds, all.slice(8, 12));
  assert.equal(evs.filter((x) => x.type === "BlockRemoved").length, 0, "nothing evicted with room to spare");
});

test("LoRA and cache_salt requests publish the extra keys their hashes include", () => {
  const e = new Engine(testConfig({ kvEvents: true, enableLora: true }));
  const a = e.add(req("a", 8, 1, { adapter: "ad", loraId: 3, cacheSalt: "tenant" }), 0);
  const [s] = stored(drain(e));
  assert.deepEqual(s!.blockHashes, expected(a.tokens.slice(0, 8), "ad", "tenant"));
  assert.deepEqual(s!.extraKeys, [["ad", "tenant"], ["ad"]]);
  assert.equal(s!.loraId, 3);
  assert.equal(s!.loraName, "ad");
});

test("evicting cached blocks publishes BlockRemoved for each, tail blocks first", () => {
  const e = new Engine(testConfig({ kvEvents: true, numGpuBlocks: 6, maxModelLen: 24 }));
  const a = e.add(req("a", 16, 1), 0);
  const first = drain(e);
  assert.deepEqual(stored(first)[0]!.blockHashes, expected(a.tokens.slice(0, 16)));
  e.add(req("b", 20, 1, {}, 500), 0); // needs 5 blocks: 2 free ones, then 3 of a's cached blocks
  const evs = drain(e);
  const removed = evs.flatMap((x) => (x.type === "BlockRemoved" ? x.blockHashes : []));
  const aHashes = expected(a.tokens.slice(0, 16));
  assert.deepEqual(removed, [aHashes[3], aHashes[2], aHashes[1]], "a's blocks are evicted from its tail");
  const firstRemoved = evs.findIndex((x) => x.type === "BlockRemoved");
  const firstStored = evs.findIndex((x) => x.type === "BlockStored");
  assert.ok(firstRemoved < firstStored, "evictions of a step come before the blocks it stores");
});

test("two requests computing the same prefix both store it; evicting one copy leaves the other cached", () => {
  const e = new Engine(testConfig({ kvEvents: true, numGpuBlocks: 12, maxModelLen: 40 }));
  e.add(req("a", 8, 1), 0);
  e.add(req("b", 8, 1), 0);
  const s = stored(drain(e));
  assert.equal(s.length, 2);
  assert.deepEqual(
    s[0]!.blockHashes,
    s[1]!.blockHashes,
    "vLLM does not de-duplicate: the hash is stored twice",
  );
  e.add(req("c", 36, 1, {}, 900), 0); // 9 blocks: 8 free ones then one cached copy of the shared prefix
  const removed = drain(e).flatMap((x) => (x.type === "BlockRemoved" ? x.blockHashes : []));
  assert.equal(removed.length, 1);
  let hit = -1;
  const d = e.add(req("d", 9, 1), 0); // a's 8 tokens and one more: both blocks can hit
  run(e, (plan) => {
    const c = plan.chunks.find((x) => x.seq === d);
    if (c !== undefined && hit < 0) hit = d.numComputed;
  });
  assert.equal(hit, 8, "b's copy of the evicted block still serves the hit");
});

test("resetPrefixCache publishes AllBlocksCleared, refuses while blocks are held, and forgets every hash", () => {
  const e = new Engine(testConfig({ kvEvents: true }));
  const a = e.add(req("a", 12, 4), 0);
  const plan = e.schedule(0)!;
  e.complete(plan, plan.durationMs);
  e.takeEvents();
  assert.equal(e.resetPrefixCache(false), false, "a running request holds blocks");
  assert.deepEqual(e.takeEvents(), []);
  assert.equal(e.resetPrefixCache(true), true, "reset_running_requests preempts it first");
  assert.deepEqual(e.takeEvents(), [{ type: "AllBlocksCleared" }]);
  assert.equal(a.status, "waiting");
  drain(e);
  assert.equal(a.status, "finished");
  e.resetPrefixCache(false);
  const b = e.add(req("b", 12, 1), 0);
  let first = -1;
  run(e, (p) => {
    const c = p.chunks.find((x) => x.seq === b);
    if (c !== undefined && first < 0) first = c.numNew;
  });
  assert.equal(first, 12, "after the reset the prefix misses");
});

test("without kvEvents nothing is recorded", () => {
  const e = new Engine(testConfig());
  e.add(req("a", 12, 2), 0);
  assert.deepEqual(drain(e), []);
});
