import assert from "node:assert/strict";
import { test } from "node:test";
import { computeMetrics, peakConcurrency } from "../../src/bench/metrics.ts";
import { emptyOutput, type RequestOutput } from "../../src/bench/request-output.ts";

function ok(start: number, ttft: number, itl: number[], tokens: number, promptLen: number): RequestOutput {
  const latency = ttft + itl.reduce((a, b) => a + b, 0);
  return {
    ...emptyOutput(0, promptLen),
    success: true,
    status: 200,
    startTime: start,
    ttft,
    itl,
    latency,
    outputTokens: tokens,
    chunks: itl.length + 1,
  };
}

// Fixed synthetic trace; every expected number below was computed by hand.
const trace: RequestOutput[] = [
  ok(0.0, 0.1, [0.05, 0.05, 0.1], 4, 10), // E2EL 0.3, TPOT (0.3-0.1)/3
  ok(0.2, 0.2, [0.1], 2, 20), // E2EL 0.3, TPOT 0.1
  { ...emptyOutput(0, 99), status: 503, error: "HTTP 503" },
  ok(1.0, 0.4, [], 1, 30), // E2EL 0.4, no TPOT (1 token)
  { ...emptyOutput(0, 99), status: 429, error: "HTTP 429" },
  { ...emptyOutput(0, 99), status: 200, error: "Never received a valid chunk" },
];
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test("metric math equals hand-computed values on a fixed trace", () => {
  const m = computeMetrics(trace, 2, { percentiles: [50, 99], sloOf: () => ({ ttft: 250, tpot: 70 }) });
  assert.equal(m.completed, 3);
  assert.equal(m.failed, 3);
  assert.equal(m.totalInput, 60); // successes only
  assert.equal(m.totalOutput, 7);
  close(m.requestThroughput, 1.5, "req/s");
  close(m.outputThroughput, 3.5, "out tok/s");
  close(m.totalTokenThroughput, 33.5, "total tok/s");
  const { ttft, tpot, itl, e2el } = m.summaries;
  close(ttft.mean, 700 / 3, "mean ttft");
  close(ttft.median, 200, "median ttft");
  close(ttft.std, Math.sqrt(0.14 / 9) * 1000, "std ttft");
  close(ttft.percentiles[1]![1], 396, "p99 ttft"); // 0.2 + 0.98·0.2
  close(tpot.mean, (200 / 3 + 100) / 2, "mean tpot");
  close(tpot.percentiles[1]![1], 200 / 3 + 0.99 * (100 - 200 / 3), "p99 tpot");
  close(itl.mean, 75, "mean itl");
  close(itl.std, 25, "std itl");
  close(itl.percentiles[1]![1], 100, "p99 itl");
  close(e2el.mean, 1000 / 3, "mean e2el");
  close(e2el.percentiles[1]![1], 398, "p99 e2el");
  // tokens at 0.1 0.15 0.2 0.3 | 0.4 0.5 | 1.4 → the first second holds 6
  assert.equal(m.maxOutputTokensPerS, 6);
  assert.equal(m.maxConcurrentRequests, 2); // [0,0.3) overlaps [0.2,0.5)
  // goodput: #0 good; #1 TPOT 100 > 70; #3 TTFT 400 > 250 (its TPOT counts as 0)
  assert.equal(m.goodCompleted, 1);
  close(m.requestGoodput, 0.5, "goodput");
  assert.deepEqual(m.errorsByStatus, { "503": 1, "429": 1, other: 1 });
  assert.deepEqual(m.outputLens, [4, 2, 0, 1, 0, 0]);
});

test("peak concurrency treats intervals as half-open: an end and a start at the same time do not overlap", () => {
  assert.equal(peakConcurrency([ok(0, 0.5, [0.5], 2, 1), ok(1, 0.5, [], 1, 1)]), 1);
  assert.equal(peakConcurrency([ok(0, 0.5, [0.5], 2, 1), ok(0.999, 0.5, [], 1, 1)]), 2);
});

test("with no successes every statistic is 0 and nothing throws", () => {
  const m = computeMetrics([{ ...emptyOutput(0, 5), status: 500 }], 1, {
    percentiles: [99],
    sloOf: () => undefined,
  });
  assert.equal(m.completed, 0);
  assert.equal(m.summaries.ttft.mean, 0);
  assert.equal(m.maxOutputTokensPerS, 0);
  assert.equal(m.maxConcurrentRequests, 0);
});
