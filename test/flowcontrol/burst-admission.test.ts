/**
 * Bursts: admission counts the gateway's own dispatches at once. Requests arriving together are
 * charged in-flight at admission (onAdmitted), and the utilisation detector counts in-flight
 * requests sent since the last scrape as queued, so a burst saturates the pool before any
 * scrape shows it: Standard stops where the room left is within the active reserve, Critical goes
 * on to its higher limit, and what waits is released Critical first once the next scrape frees room.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import type { FlowRequest } from "../../src/flowcontrol/types.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";
import { candidate, request } from "./helpers.ts";

/** Five idle servers, scraped just now; the default detector (queue threshold 5) and reclaim window. */
function burstHarness() {
  const timers = new FakeTimers(Date.now());
  const servers: Candidate[] = [
    "10.0.0.1:8000",
    "10.0.0.2:8000",
    "10.0.0.3:8000",
    "10.0.0.4:8000",
    "10.0.0.5:8000",
  ].map((id) => candidate(id, { updatedAt: timers.now() }));
  const controller = new FlowController({
    settings: parseFlowControl({}),
    candidates: () => servers,
    timers,
  });
  const dispatched: string[] = [];
  let next = 0;
  /** A request charged where the detector reads it at admission, round robin over the servers (as the exchange does). */
  const charged = (id: string, priority: number): FlowRequest => ({
    ...request(id, priority, id.startsWith("c") ? "critical" : "standard"),
    onAdmitted: () => {
      dispatched.push(id);
      servers[next++ % servers.length]!.inFlight.requests++;
    },
  });
  /** The next scrape: every in-flight request is in the running batch. */
  const scrape = () => {
    for (const s of servers)
      (s as { metrics: Candidate["metrics"] }).metrics = {
        ...s.metrics,
        running: s.inFlight.requests,
        waiting: 0,
        inFlightRequestsAtScrape: s.inFlight.requests,
        updatedAt: timers.now(),
      };
  };
  return { timers, controller, dispatched, charged, scrape };
}

test("a burst of both classes is seen before the next scrape: Standard stops early, Critical fills the headroom", async () => {
  const h = burstHarness();
  // 40 + 40 requests, interleaved, all in one turn: no scrape and no timer in between.
  const all: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    all.push(h.controller.admit(h.charged(`s${i}`, 0)).catch(() => {}));
    all.push(h.controller.admit(h.charged(`c${i}`, 1)).catch(() => {}));
  }
  const first = [...h.dispatched];
  const standard = first.filter((id) => id.startsWith("s")).length;
  const critical = first.filter((id) => id.startsWith("c")).length;
  // 25 requests make the pool's saturation 1.0 (5 per server). Standard passes while more than the
  // reserve is left below its 0.8 (saturation < 0.6: 8 of the first 15), Critical while below 1.25 (32).
  assert.equal(first.length, 32, `dispatched at once: ${first.join(",")}`);
  assert.ok(standard <= 8, `Standard dispatched in the burst: ${standard}`);
  assert.ok(critical >= 24, `Critical dispatched in the burst: ${critical}`);
  assert.equal(h.controller.stats().queued, 80 - 32);

  // The next scrape shows the burst running: the waiting Critical requests go first, all of them.
  await h.timers.advance(50);
  h.scrape();
  h.controller.notify();
  const released = h.dispatched.slice(first.length);
  const lastCritical = released.findLastIndex((id) => id.startsWith("c"));
  const firstStandard = released.findIndex((id) => id.startsWith("s"));
  assert.equal(
    released.filter((id) => id.startsWith("c")).length,
    40 - critical,
    "every waiting Critical released",
  );
  assert.ok(firstStandard === -1 || firstStandard > lastCritical, `release order: ${released.join(",")}`);
  h.controller.close();
  await Promise.all(all);
});

test("a burst of both classes lets in no more before the scrape than a Critical-only burst, at most 8 of them Standard", () => {
  const alone = burstHarness();
  const both = burstHarness();
  for (let i = 0; i < 40; i++) alone.controller.admit(alone.charged(`c${i}`, 1)).catch(() => {});
  for (let i = 0; i < 40; i++) {
    both.controller.admit(both.charged(`c${i}`, 1)).catch(() => {});
    both.controller.admit(both.charged(`s${i}`, 0)).catch(() => {});
  }
  const criticalBoth = both.dispatched.filter((id) => id.startsWith("c")).length;
  const standardBoth = both.dispatched.length - criticalBoth;
  assert.equal(alone.dispatched.length, 32);
  assert.equal(criticalBoth + standardBoth, 32);
  assert.ok(standardBoth <= 8);
  alone.controller.close();
  both.controller.close();
});
