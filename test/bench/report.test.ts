import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatBlock, formatFailedByStatus, formatReport } from "../../src/bench/report.ts";
import { loadTraceRun } from "./trace-fixture.ts";

const golden = (name: string) => readFileSync(new URL(`./golden/${name}`, import.meta.url), "utf8");

test("the current-layout block equals the numpy/Python oracle's golden file byte for byte", () => {
  const { run, trace } = loadTraceRun();
  const text = formatBlock(run, " Serving Benchmark Result ", false, {
    percentileMetrics: trace.percentile_metrics,
    metricPercentiles: trace.metric_percentiles,
  });
  assert.equal(text, golden("current.txt"));
});

test("--legacy-report equals the v0.8 benchmark_serving.py layout golden file", () => {
  const { run, trace } = loadTraceRun();
  const text = formatBlock(run, " Serving Benchmark Result ", false, {
    percentileMetrics: trace.percentile_metrics,
    metricPercentiles: trace.metric_percentiles,
    legacy: true,
  });
  assert.equal(text, golden("legacy.txt"));
});

test("class blocks add the three rows right after Failed requests, then the aggregate follows", () => {
  const { run } = loadTraceRun();
  const a = { ...run, name: "critical", model: "qwen", priority: 0 };
  const b = { ...run, name: "standard", model: "travel-helper", priority: undefined };
  const text = formatReport(
    { startedAt: new Date(0), t0: 0, classes: [a, b], aggregate: run, multiClass: true, samples: [] },
    { percentileMetrics: ["ttft"], metricPercentiles: [99] },
  );
  const lines = text.split("\n");
  const titles = lines.filter((l) => /^=+ .* =+$/.test(l));
  assert.deepEqual(titles, [
    "==== Class critical (model=qwen, priority=0) =====",
    "====== Class standard (model=travel-helper) ======",
    "============ Serving Benchmark Result ============",
  ]);
  for (const t of titles) assert.equal(t.length, 50);
  const i = lines.indexOf("Failed requests:                         4         ");
  assert.ok(i > 0);
  assert.equal(lines[i + 1], "Failed by status:                        429=2 500=1 503=1 other=0");
  assert.ok(lines[i + 2]?.startsWith("Goodput ratio (%):                       "));
  assert.ok(lines[i + 3]?.startsWith("Mean client queue (ms):                  "));
  assert.equal(lines[i + 4], "Maximum request concurrency:             8         ");
});

test("failures by status are listed ascending with the non-HTTP ones last", () => {
  assert.equal(formatFailedByStatus({ "503": 3, other: 2, "429": 12 }), "429=12 503=3 other=2");
  assert.equal(formatFailedByStatus({}), "other=0");
});
