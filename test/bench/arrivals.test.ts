import assert from "node:assert/strict";
import { test } from "node:test";
import { arrivalOffsets, rateAt } from "../../src/bench/arrivals.ts";
import { createRng } from "../../src/bench/prng.ts";

test("an infinite rate releases every request at t0", () => {
  assert.deepEqual(
    arrivalOffsets({ rate: Number.POSITIVE_INFINITY, burstiness: 1 }, 4, createRng(0)),
    [0, 0, 0, 0],
  );
});

test("finite rates: increasing offsets, the last exactly n/rate, the first one also waits", () => {
  const offs = arrivalOffsets({ rate: 20, burstiness: 1 }, 200, createRng(3));
  assert.equal(offs.length, 200);
  assert.ok(offs[0]! > 0);
  for (let i = 1; i < offs.length; i++) assert.ok(offs[i]! >= offs[i - 1]!);
  assert.ok(Math.abs(offs[199]! - 10) < 1e-9);
});

test("burstiness inf gives constant gaps; burstiness sets the gaps' coefficient of variation 1/√b", () => {
  const constant = arrivalOffsets({ rate: 4, burstiness: Number.POSITIVE_INFINITY }, 8, createRng(0));
  assert.deepEqual(
    constant.map((x) => Math.round(x * 1e9) / 1e9),
    [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2],
  );
  const cv = (b: number) => {
    const o = arrivalOffsets({ rate: 10, burstiness: b }, 20000, createRng(11));
    const gaps = o.map((x, i) => x - (i === 0 ? 0 : o[i - 1]!));
    const m = gaps.reduce((a, g) => a + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - m) ** 2, 0) / gaps.length);
    return sd / m;
  };
  assert.ok(Math.abs(cv(1) - 1) < 0.05, `Poisson CV ${cv(1)}`);
  assert.ok(Math.abs(cv(4) - 0.5) < 0.05, `b=4 CV ${cv(4)}`);
  assert.ok(Math.abs(cv(0.25) - 2) < 0.15, `b=0.25 CV ${cv(0.25)}`);
});

test("ramp-up rates move by request index from start to end", () => {
  const lin = {
    rate: Number.POSITIVE_INFINITY,
    burstiness: 1,
    rampUp: { strategy: "linear" as const, startRps: 2, endRps: 10 },
  };
  assert.equal(rateAt(lin, 0, 5), 2);
  assert.equal(rateAt(lin, 2, 5), 6);
  assert.equal(rateAt(lin, 4, 5), 10);
  const exp = { ...lin, rampUp: { strategy: "exponential" as const, startRps: 1, endRps: 16 } };
  assert.equal(rateAt(exp, 2, 5), 4);
});
