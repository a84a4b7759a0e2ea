import assert from "node:assert/strict";
import { test } from "node:test";
import { chartData, renderChartSvg } from "../../src/bench/chart.ts";
import type { BenchmarkRun } from "../../src/bench/run-types.ts";
import { loadTraceRun } from "./trace-fixture.ts";

function twoClassRun(): BenchmarkRun {
  const { run } = loadTraceRun();
  const b = { ...run, name: "standard", outputs: run.outputs.map((o) => ({ ...o, ttft: o.ttft * 3 })) };
  return {
    startedAt: new Date(0),
    t0: 0,
    classes: [{ ...run, name: "critical" }, b],
    aggregate: run,
    multiClass: true,
    samples: [
      { t: 0, url: "u", running: 1, waiting: 0, kvCacheUsage: 0.5 },
      { t: 1, url: "u", running: 2, waiting: 3, kvCacheUsage: null },
    ],
  };
}

test("chart data: per-class CDF rises to 1, throughput bins hold every token, gauges become series", () => {
  const run = twoClassRun();
  const d = chartData(run);
  for (const name of ["critical", "standard"]) {
    const cdf = d.cdf.filter((r) => r["class"] === name);
    assert.equal(cdf.length, run.classes[0]!.metrics.completed);
    assert.equal(cdf.at(-1)!["fraction"], 1);
    for (let i = 1; i < cdf.length; i++)
      assert.ok((cdf[i]!["ttft_ms"] as number) >= (cdf[i - 1]!["ttft_ms"] as number));
  }
  const tokens = d.tput
    .filter((r) => r["class"] === "critical")
    .reduce((a, r) => a + (r["tokens_per_s"] as number), 0);
  const chunks = run.classes[0]!.outputs.filter((o) => o.success).reduce((a, o) => a + o.itl.length + 1, 0);
  assert.equal(tokens, chunks);
  assert.deepEqual(
    d.gauges.map((g) => [g["series"], g["value"]]),
    [
      ["running", 1],
      ["waiting", 0],
      ["KV cache %", 50],
      ["running", 2],
      ["waiting", 3],
    ],
  );
});

test("the SVG names both classes and every panel", async () => {
  const svg = await renderChartSvg(twoClassRun());
  for (const text of [
    "TTFT distribution (CDF)",
    "TTFT of each request by send time",
    "Output tokens per second",
    "Server load",
    "critical",
    "standard",
  ]) {
    assert.ok(svg.includes(text), text);
  }
});
