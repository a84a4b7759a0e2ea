/**
 * Issue 13, finding 6: with no per-band cap and no TTL, a Critical flood queued Standard without
 * limit (5,000 queued, waits of p50 45 s). A flow-control section that sets nothing is bounded
 * now: 1000 queued requests per band (then 429 queue_full), 30 s in the queue (then 503
 * queue_timeout), 256 MiB per band; each is overridable, and 0 still means unlimited.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { harness, request } from "../flowcontrol/helpers.ts";

test("a saturated pool holds at most 1000 Standard requests by default; the rest get 429", async () => {
  const h = harness();
  h.detector.value = 2;
  const all = Array.from({ length: 1005 }, (_, i) => h.admit(request(`s${i}`, 0)));
  await h.timers.turns(3);
  assert.equal(h.controller.stats().queued, 1000);
  assert.deepEqual(
    [...new Set(h.failed.map((f) => `${f.status} ${f.code}`))],
    ["429 queue_full"],
    "the requests over the cap",
  );
  assert.equal(h.failed.length, 5);
  await h.timers.advance(30_000);
  await Promise.all(all);
  assert.equal(h.controller.stats().queued, 0, "nobody waits past the default TTL");
  const timedOut = h.failed.filter((f) => f.code === "queue_timeout");
  assert.equal(timedOut.length, 1000);
  assert.equal(timedOut[0]!.status, 503);
});

test("the defaults are overridable, and 0 means unlimited", async () => {
  const h = harness({ defaultRequestTTL: 0, defaultPriorityBand: { maxRequests: 0 } });
  h.detector.value = 2;
  const all = Array.from({ length: 1500 }, (_, i) => h.admit(request(`s${i}`, 0)));
  await h.timers.turns(3);
  await h.timers.advance(120_000);
  assert.equal(h.controller.stats().queued, 1500);
  assert.equal(h.failed.length, 0);
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.settle();
  await Promise.all(all);
  assert.equal(h.served.length, 1500);
});
