import assert from "node:assert/strict";
import { test } from "node:test";
import { lengthBounds, sampleLengths } from "../../src/bench/lengths.ts";
import { createRng } from "../../src/bench/prng.ts";
import { buildRandomRequests } from "../../src/bench/prompts.ts";

test("length bounds follow vLLM's current rule (the seed's 3000 ± 20%)", () => {
  assert.deepEqual(lengthBounds({ inputLen: 3000, outputLen: 3000, rangeRatio: 0.2 }), {
    input: [2400, 3600],
    output: [2400, 3600],
  });
  assert.deepEqual(lengthBounds({ inputLen: 1024, outputLen: 128, rangeRatio: 0 }), {
    input: [1024, 1024],
    output: [128, 128],
  });
  // output never drops below 1; special tokens come off the input
  assert.deepEqual(
    lengthBounds({ inputLen: 10, outputLen: 1, rangeRatio: 0.9, specialTokens: 1 }).output,
    [1, 2],
  );
  assert.deepEqual(
    lengthBounds({ inputLen: 10, outputLen: 1, rangeRatio: 0.5, specialTokens: 1 }).input,
    [4, 14],
  );
  assert.throws(() => lengthBounds({ inputLen: 10, outputLen: 1, rangeRatio: 1 }), /range-ratio/);
});

test("sampled lengths are uniform integers that reach both inclusive ends", () => {
  const { input, output } = sampleLengths(
    { inputLen: 10, outputLen: 4, rangeRatio: 0.5 },
    2000,
    createRng(1),
  );
  assert.equal(Math.min(...input), 5);
  assert.equal(Math.max(...input), 15);
  assert.equal(Math.min(...output), 2);
  assert.equal(Math.max(...output), 6);
  for (const v of input) assert.ok(Number.isInteger(v));
  const counts = new Map<number, number>();
  for (const v of input) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.equal(counts.size, 11); // every value in [5, 15] occurs
});

test("random prompts have exactly prefix + sampled words and share the prefix; same seed, same prompts", () => {
  const p = { numPrompts: 50, inputLen: 30, outputLen: 8, prefixLen: 12, rangeRatio: 0.2 };
  const a = buildRandomRequests(p, createRng(0));
  const b = buildRandomRequests(p, createRng(0));
  assert.deepEqual(a, b);
  const prefix = a[0]!.prompt.split(" ").slice(0, 12).join(" ");
  for (const r of a) {
    const words = r.prompt.split(" ");
    assert.equal(words.length, r.promptLen);
    assert.ok(r.promptLen >= 12 + 24 && r.promptLen <= 12 + 36);
    assert.ok(r.outputLen >= 6 && r.outputLen <= 10);
    assert.equal(words.slice(0, 12).join(" "), prefix);
    for (const w of words) assert.match(w, /^[a-z]+$/);
  }
  assert.notDeepEqual(buildRandomRequests(p, createRng(1)), a);
});
