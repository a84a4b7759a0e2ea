/**
 * Issue 13, finding 1: the parse-cost budget of request bodies. Limits are checked as bytes
 * arrive (in any chunking), and the top-level `model` string is located for the byte splice.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonBudget, type JsonLimits } from "../../src/requestcontrol/json-budget.ts";

const LIMITS: JsonLimits = { maxDepth: 4, maxContainers: 10, maxValues: 20, maxKeyBytes: 8 };

/** Feeds `text` in chunks of `size` bytes; returns the budget. */
function scan(text: string, size = Number.POSITIVE_INFINITY, limits = LIMITS): JsonBudget {
  const b = new JsonBudget(limits);
  const bytes = Buffer.from(text);
  const step = Math.min(size, bytes.length || 1);
  for (let o = 0; o < bytes.length; o += step) if (!b.push(bytes.subarray(o, o + step))) break;
  return b;
}

const span = (text: string, b: JsonBudget) =>
  b.modelSpan && Buffer.from(text).subarray(b.modelSpan.start, b.modelSpan.end).toString();

test("a body within the limits passes, in one chunk or byte by byte", () => {
  const text = '{"model":"llama","messages":[{"role":"user","content":"hi \\"there\\" {[,:"}],"n":1}';
  for (const size of [1, 2, 3, 7, Number.POSITIVE_INFINITY]) {
    const b = scan(text, size);
    assert.equal(b.error, undefined, `chunk size ${size}`);
    assert.equal(span(text, b), '"llama"', `chunk size ${size}`);
    assert.equal(b.containers, 3);
  }
});

test("each limit refuses with a message naming it", () => {
  assert.match(scan("[[[[[1]]]]]").error!, /nests deeper than 4 levels/);
  assert.match(scan(`[${"{},".repeat(10)}{}]`).error!, /more than 10 objects and arrays/);
  assert.match(scan(`[${"1,".repeat(25)}1]`).error!, /more than 20 values/);
  assert.match(scan(`[${'"a",'.repeat(25)}"a"]`).error!, /more than 20 values/);
  assert.match(scan('{"averylongkey":1}').error!, /key is longer than 8 bytes/);
  assert.match(scan('{"averylongkey":1}', 1).error!, /key is longer than 8 bytes/);
  // Values may be long: only keys are capped.
  assert.equal(scan(`{"k":"${"x".repeat(10_000)}"}`, 100).error, undefined);
});

test("the 15 MB hostile shapes are refused within their first few hundred KB", () => {
  const body = Buffer.from(`[${"{},".repeat(5_000_000)}{}]`);
  const b = new JsonBudget();
  let offset = 0;
  for (; offset < body.length; offset += 65536) if (!b.push(body.subarray(offset, offset + 65536))) break;
  assert.match(b.error!, /more than 100000 objects and arrays/);
  assert.ok(b.bytes < 400_000, `refused after ${b.bytes} bytes`);
  const deep = new JsonBudget();
  assert.equal(deep.push(Buffer.from("[".repeat(100_000))), false);
  assert.match(deep.error!, /nests deeper than 64 levels/);
});

test("the model span is the last top-level string `model`, never a nested or escaped one", () => {
  const nested = '{"x":{"model":"inner"},"model":"outer"}';
  assert.equal(span(nested, scan(nested, 3)), '"outer"');
  const dup = '{"model":"a","model":"b"}';
  assert.equal(span(dup, scan(dup)), '"b"');
  const escapedKey = '{"mod\\u0065l":"x"}';
  assert.equal(scan(escapedKey).modelSpan, undefined);
  const escapedValue = '{"model":"a\\"b\\\\"}';
  assert.equal(span(escapedValue, scan(escapedValue, 1)), '"a\\"b\\\\"');
  const notString = '{"model":["m"],"n":"model"}';
  assert.equal(scan(notString).modelSpan, undefined);
  const models = '{"models":"x","mode":"y"}';
  assert.equal(scan(models).modelSpan, undefined);
});
