import assert from "node:assert/strict";
import { test } from "node:test";
import { ConcurrencyDetector } from "../../src/flowcontrol/saturation/concurrency-detector.ts";
import { UtilizationDetector } from "../../src/flowcontrol/saturation/utilization-detector.ts";
import { BUILTIN_REGISTRY } from "../../src/plugins/builtin-registry.ts";
import { candidate } from "./helpers.ts";

const now = Date.now();

test("utilization: a server is full at 5 waiting or 80% KV; the pool is the mean", () => {
  const d = new UtilizationDetector();
  assert.equal(d.saturation([candidate("a:1", { waiting: 0, kvCacheUsage: 0, updatedAt: now })], now), 0);
  assert.equal(d.saturation([candidate("a:1", { waiting: 5, updatedAt: now })], now), 1);
  assert.equal(d.saturation([candidate("a:1", { kvCacheUsage: 0.8, updatedAt: now })], now), 1);
  const pool = [
    candidate("a:1", { waiting: 10, updatedAt: now }), // 2
    candidate("b:1", { kvCacheUsage: 0.4, updatedAt: now }), // 0.5
  ];
  assert.equal(d.saturation(pool, now), 1.25);
});

test("utilization: metrics older than 200 ms, or marked stale by the datastore, count as full", () => {
  const d = new UtilizationDetector();
  assert.equal(d.saturation([candidate("a:1", { updatedAt: now - 201 })], now), 1);
  assert.equal(d.saturation([candidate("a:1", { updatedAt: now - 150 })], now), 0);
  assert.equal(d.saturation([{ ...candidate("a:1", { updatedAt: now }), stale: true }], now), 1);
  // Never scraped: stale once scrapers run (the datastore says so); before that, in-flight counts alone.
  assert.equal(d.saturation([{ ...candidate("a:1", { updatedAt: 0 }), stale: true }], now), 1);
  assert.equal(d.saturation([candidate("a:1", { updatedAt: 0 }, 2)], now), 0.4);
});

test("utilization: requests the gateway sent since the scrape count as waiting", () => {
  const d = new UtilizationDetector();
  // Scraped with 3 in flight, all running. The gateway has 8 in flight now: 5 sent since.
  const scraped = { running: 3, inFlightRequestsAtScrape: 3, updatedAt: now };
  assert.equal(d.saturation([candidate("a:1", scraped, 8)], now), 1);
  assert.equal(d.saturation([candidate("a:1", scraped, 4)], now), 0.2);
  // Never scraped (and not stale): every in-flight request counts.
  assert.equal(d.saturation([candidate("a:1", { updatedAt: 0 }, 5)], now), 1);
});

test("utilization: in-flight work the scrape already saw is not counted again", () => {
  const d = new UtilizationDetector();
  // An instant server: 32 in flight when the scrape started and now, none running or waiting
  // there (answered already, or on the way): no queue, whatever the gateway holds in flight.
  const instant = candidate(
    "a:1",
    { running: 0, waiting: 0, inFlightRequestsAtScrape: 32, updatedAt: now },
    32,
  );
  assert.equal(d.saturation([instant], now), 0);
  // It answered 32 between two scrapes, so 32 more since are no queue either; 2 of 4 answered: 6 − 2.
  assert.equal(d.saturation([{ ...instant, inFlight: { requests: 64, tokens: 0, kvTokens: 0 } }], now), 0);
  assert.equal(d.saturation([{ ...instant, inFlight: { requests: 65, tokens: 0, kvTokens: 0 } }], now), 0.2);
  const partly = candidate(
    "a:1",
    { running: 2, waiting: 0, inFlightRequestsAtScrape: 4, updatedAt: now },
    10,
  );
  assert.equal(d.saturation([partly], now), 0.8);
  // Fewer in flight than at the scrape: the finished requests freed places for the waiting ones.
  const draining = candidate(
    "a:1",
    { running: 8, waiting: 6, inFlightRequestsAtScrape: 14, updatedAt: now },
    11,
  );
  assert.equal(d.saturation([draining], now), 0.6);
  const drained = candidate(
    "a:1",
    { running: 8, waiting: 2, inFlightRequestsAtScrape: 14, updatedAt: now },
    6,
  );
  assert.equal(d.saturation([drained], now), 0);
});

test("utilization: a scrape that fell on a lull does not turn an instant server's in-flight swings into a queue", () => {
  const d = new UtilizationDetector();
  // The last scrape found 2 in flight (a lull); the second before it found 28 answered. 30 in
  // flight now, none running or waiting there: they are on the way, no queue.
  const lull = { running: 0, waiting: 0, inFlightRequestsAtScrape: 2, updatedAt: now };
  assert.equal(d.saturation([candidate("a:1", { ...lull, answeredAtRecentScrapes: 28 }, 30)], now), 0);
  // Without that history the same 30 count as 26 waiting: saturated.
  assert.equal(d.saturation([candidate("a:1", lull, 30)], now), 26 / 5);
  // A slow server answers nothing between scrapes: its history is 0, so a burst counts at once.
  const busy = {
    running: 4,
    waiting: 0,
    inFlightRequestsAtScrape: 4,
    answeredAtRecentScrapes: 0,
    updatedAt: now,
  };
  assert.equal(d.saturation([candidate("a:1", busy, 9)], now), 1);
});

test("every detector: no endpoints at all is saturated, so requests wait for one", () => {
  assert.equal(new UtilizationDetector().saturation([], now), Number.POSITIVE_INFINITY);
  assert.equal(new ConcurrencyDetector().saturation([], now), Number.POSITIVE_INFINITY);
});

test("utilization filter keeps servers under the thresholds plus headroom, or all when none qualify", () => {
  const d = new UtilizationDetector({ headroom: 0.2 });
  const ok = candidate("a:1", { waiting: 5, updatedAt: now }); // 5 < 6
  const full = candidate("b:1", { waiting: 6, updatedAt: now });
  assert.deepEqual(
    d.filter([ok, full], now).map((c) => c.endpoint.id),
    ["a:1"],
  );
  assert.deepEqual(
    d.filter([full], now).map((c) => c.endpoint.id),
    ["b:1"],
  );
});

test("concurrency: in-flight requests or tokens over the per-endpoint limit", () => {
  const requests = new ConcurrencyDetector({ maxConcurrency: 4 });
  assert.equal(requests.saturation([candidate("a:1", {}, 2), candidate("b:1", {}, 4)], now), 0.75);
  const tokens = new ConcurrencyDetector({ concurrencyMode: "tokens", maxTokenConcurrency: 1000 });
  const c = { ...candidate("a:1"), inFlight: { requests: 1, tokens: 1500, kvTokens: 0 } };
  assert.equal(tokens.saturation([c], now), 1.5);
});

const createDetector = (spec: { type: string; parameters?: unknown }) =>
  BUILTIN_REGISTRY.create(spec, "saturation-detector", "saturation detector");

test("the registry builds detectors by type with validated parameters", () => {
  const d = createDetector({
    type: "utilization-detector",
    parameters: { queueDepthThreshold: 2, metricsStalenessThreshold: "1s" },
  });
  assert.ok(d instanceof UtilizationDetector);
  assert.equal(d.params.queueDepthThreshold, 2);
  assert.equal(d.params.metricsStalenessThresholdMs, 1000);
  assert.equal(d.params.kvCacheUtilThreshold, 0.8);
  assert.throws(
    () => createDetector({ type: "concurrency-detector", parameters: { concurrencyMode: "hybrid" } }),
    /parameters\.concurrencyMode/,
  );
});
