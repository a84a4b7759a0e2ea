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

test("index: consecutive leading matches per endpoint; LRU eviction per endpoint; removal", () => {
  const idx = new PrefixIndex(3);
  idx.add("e1", [1n, 2n, 3n]);
  idx.add("e2", [1n, 9n]);
  assert.deepEqual(match(idx, [1n, 2n, 3n, 4n], ["e1", "e2", "e3"]), [3, 1, 0]);
  assert.deepEqual(match(idx, [2n, 3n], ["e1"]), [2]);
  assert.deepEqual(match(idx, [9n, 1n], ["e1", "e2"]), [0, 2]);
  assert.equal(idx.size, 5);
  idx.add("e1", [4n]); // evicts e1's oldest (1n)
  assert.equal(idx.size, 5);
  assert.deepEqual(match(idx, [1n, 2n], ["e1", "e2"]), [0, 1]);
  idx.add("e1", [2n, 5n]); // touching 2n keeps it; 5n evicts 3n
  assert.deepEqual(match(idx, [2n, 4n, 5n], ["e1"]), [3]);
  assert.deepEqual(match(idx, [3n], ["e1"]), [0]);
  idx.removeEndpoint("e2");
  assert.deepEqual(match(idx, [1n], ["e2"]), [0]);
  assert.equal(idx.size, 3);
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
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom("e1", "e2", "e3"), fc.array(hash, { maxLength: 6 })), {
        maxLength: 12,
      }),
      fc.array(hash, { maxLength: 8 }),
      fc.integer({ min: 1, max: 8 }),
      (adds, query, capacity) => {
        const idx = new PrefixIndex(capacity);
        const naive = new Map<string, bigint[]>(); // LRU order, oldest first
        for (const [id, hashes] of adds) {
          idx.add(id, hashes);
          const lru = naive.get(id) ?? [];
          for (const h of hashes) {
            const at = lru.indexOf(h);
            if (at >= 0) lru.splice(at, 1);
            lru.push(h);
            if (lru.length > capacity) lru.shift();
          }
          naive.set(id, lru);
        }
        const got = idx.matchPrefix(query);
        for (const id of ["e1", "e2", "e3"]) {
          const held = new Set(naive.get(id) ?? []);
          let n = 0;
          while (n < query.length && held.has(query[n]!)) n++;
          assert.equal(got.get(id) ?? 0, n, id);
        }
        let size = 0;
        for (const lru of naive.values()) size += lru.length;
        assert.equal(idx.size, size);
      },
    ),
    { numRuns: 500 },
  );
});
