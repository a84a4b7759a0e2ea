import assert from "node:assert/strict";
import { test } from "node:test";
import { mean, median, percentile, std, summarize } from "../../src/bench/stats.ts";

test("percentile interpolates linearly between ranks like np.percentile", () => {
  const xs = [15, 20, 35, 40, 50];
  assert.equal(percentile(xs, 0), 15);
  assert.equal(percentile(xs, 100), 50);
  assert.equal(percentile(xs, 50), 35);
  assert.equal(percentile(xs, 40), 29); // h = 1.6 → 20 + 0.6·15
  assert.equal(percentile(xs, 90), 46); // h = 3.6 → 40 + 0.6·10
  assert.equal(percentile([3, 1, 2], 25), 1.5); // unsorted input
});

test("mean, median and population std match numpy; empty lists give 0", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.equal(median([1, 2, 3, 4]), 2.5);
  assert.equal(std([2, 4, 4, 4, 5, 5, 7, 9]), 2);
  assert.equal(mean([]), 0);
  assert.equal(median([]), 0);
  assert.equal(std([]), 0);
  assert.deepEqual(summarize([], [99]).percentiles, [[99, 0]]);
});

test("summarize scales every statistic (seconds → milliseconds)", () => {
  const s = summarize([0.1, 0.2, 0.4], [99], 1000);
  assert.ok(Math.abs(s.mean - 233.3333333) < 1e-6);
  assert.ok(Math.abs(s.median - 200) < 1e-9);
  assert.ok(Math.abs(s.percentiles[0]![1] - 396) < 1e-9);
});
