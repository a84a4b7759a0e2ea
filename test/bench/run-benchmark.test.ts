import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { BenchConfig, TrafficClass } from "../../src/bench/config.ts";
import { runBenchmark } from "../../src/bench/run-benchmark.ts";
import { startFakeServer } from "./fake-sse-server.ts";

const cls = (over: Partial<TrafficClass> & { name: string }): TrafficClass => ({
  model: "m",
  numPrompts: 12,
  inputLen: 16,
  outputLen: 4,
  prefixLen: 4,
  rangeRatio: 0,
  requestRate: Number.POSITIVE_INFINITY,
  burstiness: 1,
  maxConcurrency: null,
  headers: {},
  seed: 0,
  ...over,
});

const config = (url: string, classes: TrafficClass[], over: Partial<BenchConfig> = {}): BenchConfig => ({
  baseUrl: url,
  endpoint: "/v1/completions",
  backend: "openai",
  classes,
  multiClass: classes.length > 1,
  ignoreEos: true,
  extraBody: {},
  percentiles: [99],
  numWarmups: 0,
  readyCheckTimeoutS: 0,
  requestIdPrefix: "t-",
  requestTimeoutS: 60,
  progress: false,
  scrapeMetrics: [],
  collectText: false,
  alignPrompts: true,
  log: () => {},
  ...over,
});

test("two classes run at once, each under its own concurrency limit, with their headers and priority", async () => {
  const s = await startFakeServer({ itlMs: 10 });
  after(() => s.close());
  const run = await runBenchmark(
    config(s.url, [
      cls({ name: "critical", maxConcurrency: 2, priority: 0, headers: { "x-tenant": "a" } }),
      cls({ name: "standard", maxConcurrency: 3, model: "m2" }),
    ]),
  );
  assert.equal(run.classes.length, 2);
  assert.equal(run.aggregate.metrics.completed, 24);
  assert.ok(s.log.peakInFlight <= 5, `peak ${s.log.peakInFlight}`);
  for (const c of run.classes) {
    assert.ok(
      c.metrics.maxConcurrentRequests <= c.maxConcurrency!,
      `${c.name} ${c.metrics.maxConcurrentRequests}`,
    );
    assert.equal(c.metrics.completed, 12);
    assert.equal(c.metrics.totalOutput, 48);
    assert.equal(c.metrics.totalInput, 12 * 20);
  }
  const critical = s.log.bodies.filter((b) => b["model"] === "m");
  assert.equal(critical.length, 12);
  for (const b of critical) {
    assert.equal(b["priority"], 0);
    assert.equal(b["ignore_eos"], true);
    assert.equal(b["max_tokens"], 4);
    assert.deepEqual(b["stream_options"], { include_usage: true });
  }
  assert.ok(s.log.bodies.filter((b) => b["model"] === "m2").every((b) => !("priority" in b)));
  const ids = s.log.headers.map((h) => h["x-request-id"]).sort();
  assert.ok(ids.includes("t-critical-0") && ids.includes("t-standard-11"));
  assert.ok(s.log.headers.filter((h) => h["x-tenant"] === "a").length === 12);
});

test("a finite rate spreads sends over n/rate seconds; failures are counted by status", async () => {
  const s = await startFakeServer({ failEvery: { every: 4, status: 503 } });
  after(() => s.close());
  const run = await runBenchmark(config(s.url, [cls({ name: "x", numPrompts: 20, requestRate: 40 })]));
  const m = run.aggregate.metrics;
  assert.equal(m.completed, 15);
  assert.equal(m.failed, 5);
  assert.deepEqual(m.errorsByStatus, { "503": 5 });
  const spread = (s.log.arrivals.at(-1)! - s.log.arrivals[0]!) / 1000;
  assert.ok(spread > 0.2, `sends spread over ${spread}s, expected about 0.5s`);
  assert.ok(run.aggregate.durationS >= 0.45);
});

test("the programmatic API (as igw demo uses it) runs two classes and formats their reports", async () => {
  const {
    defaultBenchConfig,
    defaultClass,
    formatReport,
    runBenchmark: run,
  } = await import("../../src/bench/index.ts");
  const s = await startFakeServer();
  after(() => s.close());
  const small = { numPrompts: 5, inputLen: 8, outputLen: 3 };
  const result = await run(
    defaultBenchConfig(
      s.url,
      [
        defaultClass({ name: "gold", model: "m", priority: 0, ...small }),
        defaultClass({ name: "bronze", model: "m", ...small }),
      ],
      { log: () => {} },
    ),
  );
  assert.equal(result.multiClass, true);
  assert.deepEqual(
    result.classes.map((c) => [c.name, c.metrics.completed]),
    [
      ["gold", 5],
      ["bronze", 5],
    ],
  );
  const text = formatReport(result, { percentileMetrics: ["ttft"], metricPercentiles: [99] });
  assert.match(text, /Class gold \(model=m, priority=0\)/);
  assert.match(text, /Class bronze \(model=m\)/);
  assert.match(text, /============ Serving Benchmark Result ============\nSuccessful requests: +10 /);
});
