import assert from "node:assert/strict";
import { test } from "node:test";
import { detokenize, tokenize } from "../../src/sim/tokenizer.ts";

test("one token per whitespace-separated word; ids are stable and decode back", () => {
  const text = "  hello   world\tthis\nis  a test ";
  const ids = tokenize(text);
  assert.equal(ids.length, 6);
  assert.deepEqual(tokenize("hello"), [ids[0]]);
  assert.equal(detokenize(ids), "hello world this is a test");
  assert.equal(tokenize("").length, 0);
  assert.equal(tokenize(" \n ").length, 0);
  const n = 4000;
  assert.equal(tokenize(Array.from({ length: n }, (_, i) => `w${i % 50}`).join(" ")).length, n);
});
