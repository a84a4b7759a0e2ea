import assert from "node:assert/strict";
import { test } from "node:test";
import { CpuMeter, processCpuSeconds } from "../../src/demo/cpu-usage.ts";

test("CPU seconds of a live process are read from /proc and never go backwards", {
  skip: process.platform !== "linux",
}, () => {
  const a = processCpuSeconds(process.pid);
  assert.ok(a !== undefined && a >= 0);
  let x = 0;
  for (let i = 0; i < 2e7; i++) x += i % 7;
  assert.ok(x > 0);
  const b = processCpuSeconds(process.pid);
  assert.ok(b !== undefined && b >= a);
  const meter = new CpuMeter(new Map([["self", process.pid]]));
  const [row] = meter.stop();
  assert.equal(row?.name, "self");
  assert.ok((row?.cpuSeconds ?? -1) >= 0);
});

test("an unknown process reads as undefined, not as zero", () => {
  assert.equal(processCpuSeconds(2 ** 30), undefined);
});
