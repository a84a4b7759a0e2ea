import assert from "node:assert/strict";
import { test } from "node:test";
import { centre, padLeftAligned, pyFixed, pyFloatRepr } from "../../src/bench/python-format.ts";

test("pyFixed rounds the exact binary value half-to-even like Python's .2f", () => {
  assert.equal(pyFixed(0.125, 2), "0.12"); // exact tie → even
  assert.equal(pyFixed(0.375, 2), "0.38"); // exact tie → even
  assert.equal(pyFixed(2.675, 2), "2.67"); // binary value is below the tie
  assert.equal(pyFixed(1.005, 2), "1.00");
  assert.equal(pyFixed(999.995, 2), "1000.00"); // binary value is above the tie
  assert.equal(pyFixed(9.999, 2), "10.00");
  assert.equal(pyFixed(0, 2), "0.00");
  assert.equal(pyFixed(-1.5, 0), "-2");
  assert.equal(pyFixed(Number.POSITIVE_INFINITY, 2), "inf");
});

test("pyFloatRepr writes floats as Python's repr", () => {
  assert.equal(pyFloatRepr(10), "10.0");
  assert.equal(pyFloatRepr(0.5), "0.5");
  assert.equal(pyFloatRepr(Number.POSITIVE_INFINITY), "inf");
  assert.equal(pyFloatRepr(1e-5), "1e-05");
  assert.equal(pyFloatRepr(99.9), "99.9");
  assert.equal(pyFloatRepr(1e16), "1e+16");
  assert.equal(pyFloatRepr(1.5e-7), "1.5e-07");
  assert.equal(pyFloatRepr(0.0001), "0.0001");
});

test("centre and padLeftAligned follow str.format's ^ and <", () => {
  assert.equal(
    centre(" Serving Benchmark Result ", 50, "="),
    "============ Serving Benchmark Result ============",
  );
  assert.equal(centre("Time to First Token", 50, "-"), "---------------Time to First Token----------------");
  assert.equal(padLeftAligned("abc", 5), "abc  ");
  assert.equal(padLeftAligned("abcdef", 5), "abcdef");
});
