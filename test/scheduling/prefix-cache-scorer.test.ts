import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { prefixBlockHashes } from "../../src/scheduling/plugins/prefix/prefix-hasher.ts";
import { PrefixIndex } from "../../src/scheduling/plugins/prefix/prefix-index.ts";
import { PrefixCacheScorer } from "../../src/scheduling/plugins/scorers/prefix-cache-scorer.ts";
import { requestPrefixText } from "../../src/scheduling/request-prefix-text.ts";
import { candidate, request } from "./fixtures.ts";

test("block hashes: 64-char blocks, chained, partial tail included, capped at 256 blocks", () => {
  const text = "x".repeat(64 * 3 + 10);
  const h = prefixBlockHashes(text, "m", 64, 256);
  assert.equal(h.length, 4);
  // Chained: identical blocks hash differently by position.
  assert.equal(new Set(h).size, 4);
  assert.equal(prefixBlockHashes("y".repeat(64 * 300), "m", 64, 256).length, 256);
  // Same prefix, different model → no shared block.
  const other = prefixBlockHashes(text, "adapter-1", 64, 256);
  assert.ok(h.every((x) => !other.includes(x)));
  // Shared leading blocks give the same leading hashes.
  const a = prefixBlockHashes(`${"s".repeat(128)}tail-a`, "m", 64, 256);
  const b = prefixBlockHashes(`${"s".repeat(128)}tail-b`, "m", 64, 256);
  assert.deepEqual(a.slice(0, 2), b.slice(0, 2));
  assert.notEqual(a[2], b[2]);
});

function match(idx: PrefixIndex, hashes: bigint[], ids: string[]): number[] {
  const m = idx.matchPrefix(hashes);
  return ids.map((id) => m.get(id) ?? 0);
}

test("index: consecutive leading matches per endpoint; aged out by tokens like an LRU; removal", () => {
  // 1 token per entry, capacity 3 tokens: a 3-entry LRU when each add allocates its entries.
  const idx = new PrefixIndex(1);
  idx.add("e1", [1n, 2n, 3n], 3, 3);
  idx.add("e2", [1n, 9n], 2, 3);
  assert.deepEqual(match(idx, [1n, 2n, 3n, 4n], ["e1", "e2", "e3"]), [3, 1, 0]);
  assert.deepEqual(match(idx, [2n, 3n], ["e1"]), [2]);
  assert.deepEqual(match(idx, [9n, 1n], ["e1", "e2"]), [0, 2]);
  assert.equal(idx.size, 5);
  idx.add("e1", [4n], 1, 3); // evicts e1's tail first (3n): vLLM frees a request's blocks in reverse
  assert.equal(idx.size, 5);
  assert.deepEqual(match(idx, [1n, 2n, 3n], ["e1", "e2"]), [2, 1]);
  assert.deepEqual(match(idx, [1n, 2n, 4n], ["e1"]), [3]);
  idx.add("e1", [2n, 5n], 1, 3); // touching 2n keeps it; 5n evicts the oldest (1n)
  assert.deepEqual(match(idx, [2n], ["e1"]), [1]);
  assert.deepEqual(match(idx, [1n], ["e1"]), [0]);
  assert.equal(idx.sizeOf("e1"), 3);
  // A request longer than the cache keeps its own leading blocks.
  idx.add("e3", [7n, 8n, 9n, 10n], 4, 2);
  assert.deepEqual(match(idx, [7n, 8n, 9n], ["e3"]), [2]);
  idx.removeEndpoint("e2");
  assert.deepEqual(match(idx, [1n], ["e2"]), [0]);
  assert.equal(idx.size, 5);
});

test("index: tokens other requests allocate push a prefix out once they exceed the server's cache", () => {
  const idx = new PrefixIndex(16);
  const prefix = [1n, 2n, 3n, 4n];
  idx.add("e", prefix, 64 + 100, 1000); // a 64-token prefix + 100 output tokens, 1000-token cache
  // Unique requests (no shared blocks) of 300 tokens each: three fit after the prefix, the fourth evicts it.
  for (let i = 0; i < 3; i++) idx.add("e", [BigInt(100 + i)], 300, 1000);
  assert.equal(match(idx, prefix, ["e"])[0], 4, "900 tokens written since the prefix was last used");
  idx.add("e", [103n], 300, 1000);
  assert.equal(match(idx, prefix, ["e"])[0], 0, "1,200 tokens written since");
  // A bigger cache keeps it: capacity comes with every add (the latest scrape).
  const big = new PrefixIndex(16);
  big.add("e", prefix, 164, 100_000);
  for (let i = 0; i < 100; i++) big.add("e", [BigInt(1000 + i)], 300, 100_000);
  assert.equal(match(big, prefix, ["e"])[0], 4);
  // Reusing the prefix refreshes it.
  const used = new PrefixIndex(16);
  used.add("e", prefix, 164, 1000);
  for (let i = 0; i < 10; i++) {
    used.add("e", [BigInt(200 + i)], 300, 1000);
    used.add("e", prefix, 100, 1000);
  }
  assert.equal(match(used, prefix, ["e"])[0], 4);
  // Memory stays bounded when the clock stands still (capacity / tokens per entry entries).
  const still = new PrefixIndex(16);
  still.add(
    "e",
    Array.from({ length: 500 }, (_, i) => BigInt(i)),
    0,
    1600,
  );
  assert.equal(still.sizeOf("e"), 100);
});

test("scorer: matched/total blocks; learns only the endpoint actually chosen", () => {
  const s = new PrefixCacheScorer();
  const [a, b] = [candidate(), candidate()];
  const system = "You are a helpful assistant. ".repeat(20); // 580 chars → 10 blocks
  const r1 = request({ prefixText: `${system}question one` });
  assert.deepEqual(s.score(r1, [a, b]), [0, 0]);
  s.preRequest(r1, b);
  const r2 = request({ prefixText: `${system}another question` });
  const [sa, sb] = s.score(r2, [a, b]);
  assert.equal(sa, 0);
  assert.ok(sb! > 0.8 && sb! < 1, `shared system prompt mostly matches (${sb})`);
  s.preRequest(r2, b);
  assert.deepEqual(s.score(request({ prefixText: `${system}another question` }), [a, b]), [0, 1]);
  assert.deepEqual(s.score(request({ prefixText: "" }), [a, b]), [0, 0]);
  const st = s.pluginMetrics().prefixIndex!;
  assert.equal(st.lookupBlocks, 20);
  assert.ok(st.hitBlocks >= 9 && st.hitBlocks < 10);
  assert.equal(st.indexSize, 11);
  s.endpointRemoved(b.endpoint.id);
  assert.equal(s.pluginMetrics().prefixIndex?.indexSize, 0);
});

test("scorer: prepared requests keep their own block hashes (one client id, prepared before any decision)", () => {
  const s = new PrefixCacheScorer();
  const [a, b] = [candidate(), candidate()];
  const ga = "group A's system prompt. ".repeat(20);
  const gb = "group B's system prompt. ".repeat(20);
  const ask = (system: string, q: string) => request({ requestId: "same-id", prefixText: `${system}${q}` });
  const sent = [ask(ga, "q1"), ask(gb, "q2")];
  for (const r of sent) s.prepareRequest(r);
  s.preRequest(sent[1]!, b);
  s.preRequest(sent[0]!, a);
  const later = [ask(gb, "q3"), ask(ga, "q4")];
  for (const r of later) s.prepareRequest(r);
  const [fromA, fromB] = [s.score(later[1]!, [a, b]), s.score(later[0]!, [a, b])];
  assert.ok(fromA[0]! > 0.8 && fromA[1] === 0, `group A's blocks are on a: ${fromA}`);
  assert.ok(fromB[1]! > 0.8 && fromB[0] === 0, `group B's blocks are on b: ${fromB}`);
  assert.deepEqual(s.score(ask(ga, "q4"), [a, b]), fromA, "the same as unprepared");
});

test("canonical chat text: same conversation, same text whatever the JSON layout", () => {
  const a = requestPrefixText({
    model: "m",
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Hi " },
          { type: "text", text: "there" },
        ],
      },
    ],
  });
  const b = requestPrefixText(
    JSON.parse(
      '{"messages":[{"content":"Be brief.","role":"system"},{"content":"Hi there","role":"user"}],"model":"m"}',
    ),
  );
  assert.equal(a, b);
  assert.notEqual(a, requestPrefixText({ messages: [{ role: "user", content: "Be brief.Hi there" }] }));
  assert.equal(requestPrefixText({ prompt: "abc" }), "abc");
  assert.equal(requestPrefixText({ prompt: ["a", "b"] }), "a\nb");
  assert.equal(requestPrefixText(null), "");
  // A longer conversation extends the shorter one's text (so earlier turns stay a prefix).
  const turn1 = { messages: [{ role: "user", content: "q1" }] };
  const turn2 = {
    messages: [...turn1.messages, { role: "assistant", content: "a1" }, { role: "user", content: "q2" }],
  };
  assert.ok(requestPrefixText(turn2).startsWith(requestPrefixText(turn1)));
});

test("property: matchPrefix equals a naive per-endpoint count of leading blocks held", () => {
  const hash = fc.bigInt({ min: 1n, max: 12n });
  // An add (endpoint, hashes, new tokens: 0 = the clock stands still) or an endpoint leaving.
  const step = fc.oneof(
    {
      arbitrary: fc.tuple(fc.constantFrom("e1", "e2", "e3"), fc.array(hash, { maxLength: 6 }), fc.nat(6)),
      weight: 9,
    },
    { arbitrary: fc.tuple(fc.constantFrom("e1", "e2", "e3")), weight: 1 },
  );
  fc.assert(
    fc.property(
      fc.array(step, { minLength: 1, maxLength: 80 }),
      fc.array(hash, { maxLength: 8 }),
      fc.integer({ min: 1, max: 8 }),
      (steps, query, capacity) => {
        const idx = new PrefixIndex(1);
        // The documented semantics, written plainly: stamp = clock after the add, tail inserted first,
        // keep stamps newer than clock − capacity, at most capacity entries (oldest dropped first).
        const naive = new Map<string, [bigint, number][]>();
        const clocks = new Map<string, number>();
        for (const [id, hashes, tokens] of steps) {
          if (hashes === undefined) {
            idx.removeEndpoint(id);
            naive.delete(id);
            clocks.delete(id);
            continue;
          }
          idx.add(id, hashes, tokens!, capacity);
          const clock = (clocks.get(id) ?? 0) + tokens!;
          clocks.set(id, clock);
          let lru = naive.get(id) ?? [];
          for (const h of [...hashes].reverse()) {
            lru = lru.filter(([x]) => x !== h);
            lru.push([h, clock]);
          }
          lru = lru.filter(([, s]) => s > clock - capacity);
          while (lru.length > capacity) lru.shift();
          naive.set(id, lru);
        }
        const got = idx.matchPrefix(query);
        for (const id of ["e1", "e2", "e3"]) {
          const held = new Set((naive.get(id) ?? []).map(([h]) => h));
          let n = 0;
          while (n < query.length && held.has(query[n]!)) n++;
          assert.equal(got.get(id) ?? 0, n, id);
          assert.equal(idx.sizeOf(id), naive.get(id)?.length ?? 0, id);
        }
        let size = 0;
        for (const lru of naive.values()) size += lru.length;
        assert.equal(idx.size, size);
      },
    ),
    { numRuns: 500 },
  );
});

test("scorer: each endpoint's index is as large as its scraped cache (autoTune), else lruCapacityPerServer", () => {
  const system = "You are a helpful assistant. ".repeat(20); // 580 chars ≈ 145 tokens
  const unique = (i: number) => request({ prefixText: `question ${i} `.repeat(100), maxTokens: 100 });
  const run = (s: PrefixCacheScorer, c: ReturnType<typeof candidate>) => {
    s.preRequest(request({ prefixText: system }), c);
    for (let i = 0; i < 5; i++) s.preRequest(unique(i), c); // 5 × (275 + 100) tokens
    return s.score(request({ prefixText: `${system}q` }), [c])[0]!;
  };
  // 100 blocks × 16 tokens = 1,600 tokens: the system prompt is gone after ~1,700 other tokens.
  const small = candidate({ numGpuBlocks: 100, blockSize: 16 });
  assert.equal(run(new PrefixCacheScorer(), small), 0);
  const large = candidate({ numGpuBlocks: 10_000, blockSize: 16 });
  assert.ok(run(new PrefixCacheScorer(), large) >= 0.9);
  // Not scraped (or autoTune off): lruCapacityPerServer blocks of 16 tokens.
  assert.ok(run(new PrefixCacheScorer("p", { lruCapacityPerServer: 200 }), candidate()) >= 0.9);
  assert.equal(run(new PrefixCacheScorer("p", { lruCapacityPerServer: 50, autoTune: false }), large), 0);
});
