import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";
import { candidate, harness, request, SettableDetector } from "./helpers.ts";

test("an unsaturated pool admits at once and queues nothing", async () => {
  const h = harness();
  await h.admit(request("a"));
  assert.deepEqual(h.served, ["a"]);
  assert.equal(h.controller.stats().queued, 0);
});

test("a saturated pool queues requests and releases them in arrival order when capacity frees", async () => {
  const h = harness();
  h.detector.value = 2;
  const all = ["a", "b", "c"].map((id) => h.admit(request(id)));
  await h.timers.turns(3);
  assert.deepEqual(h.served, []);
  assert.equal(h.controller.stats().queued, 3);
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.settle();
  await Promise.all(all);
  assert.deepEqual(h.served, ["a", "b", "c"]);
});

test("a Critical request that arrives after queued Standard ones is served first", async () => {
  const h = harness();
  h.detector.value = 2;
  const all = [h.admit(request("s1", 0)), h.admit(request("s2", 0)), h.admit(request("c1", 10))];
  await h.timers.turns();
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.settle();
  await Promise.all(all);
  assert.deepEqual(h.served, ["c1", "s1", "s2"]);
});

test("dispatch stops at a saturated higher band: a lower band never overtakes it", async () => {
  // Standard may run up to saturation 2, Critical only up to 1: at 1.5 Critical waits, so Standard must too.
  const h = harness({ priorityBands: [{ priority: 0, usageLimit: 2 }] });
  h.detector.value = 1.5;
  const critical = h.admit(request("c", 1));
  const standard = h.admit(request("s", 0));
  await h.timers.turns(5);
  assert.deepEqual(h.served, []);
  h.detector.value = 0.5;
  h.controller.notify();
  await h.timers.settle();
  await Promise.all([critical, standard]);
  assert.deepEqual(h.served, ["c", "s"]);
});

test("a band with a higher usage limit keeps flowing while lower bands wait", async () => {
  const h = harness({ priorityBands: [{ priority: 1, usageLimit: 1.25 }] });
  h.detector.value = 1.1;
  const standard = h.admit(request("s", 0));
  await h.admit(request("c", 1));
  assert.deepEqual(h.served, ["c"]);
  assert.equal(h.controller.stats().queued, 1);
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.settle(); // c's release holds the next one for a turn
  await standard;
  assert.deepEqual(h.served, ["c", "s"]);
});

test("sheddable requests get 429 with Retry-After when saturated, unless queueSheddable", async () => {
  const h = harness();
  h.detector.value = 2;
  await h.admit(request("x", -1));
  assert.deepEqual(
    h.failed.map((f) => [f.id, f.status, f.code]),
    [["x", 429, "request_shed"]],
  );
  assert.ok((h.failed[0]?.retryAfter ?? 0) >= 1);
  h.detector.value = 0;
  await h.admit(request("y", -1));
  assert.deepEqual(h.served, ["y"], "sheddable traffic passes while there is room");

  const q = harness({ queueSheddable: true });
  q.detector.value = 2;
  const waiting = q.admit(request("z", -1));
  await q.timers.turns();
  assert.equal(q.controller.stats().queued, 1);
  q.detector.value = 0;
  q.controller.notify();
  await waiting;
  assert.deepEqual(q.served, ["z"]);
});

test("request and byte limits answer 429 queue_full with Retry-After", async () => {
  const h = harness({ maxRequests: 2, priorityBands: [{ priority: 5, maxBytes: 150 }] });
  h.detector.value = 2;
  void h.admit(request("a"));
  void h.admit(request("b"));
  await h.admit(request("c"));
  void h.admit(request("big", 5, "f", { bytes: 200 }));
  await h.timers.turns();
  assert.deepEqual(
    h.failed.map((f) => [f.id, f.status, f.code]),
    [
      ["c", 429, "queue_full"],
      ["big", 429, "queue_full"],
    ],
  );
  assert.ok(h.failed.every((f) => (f.retryAfter ?? 0) >= 1));
  h.controller.close();
});

test("a request that outlives its TTL gets 503 and is never dispatched", async () => {
  const h = harness({ defaultRequestTTL: "20ms" });
  h.detector.value = 2;
  const slow = h.admit(request("slow"));
  await h.timers.advance(19);
  assert.equal(h.failed.length, 0, "still waiting 1 ms before its TTL");
  await h.timers.advance(1);
  await slow;
  assert.deepEqual(
    h.failed.map((f) => [f.id, f.status, f.code]),
    [["slow", 503, "queue_timeout"]],
  );
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.turns(3);
  assert.deepEqual(h.served, []);
  assert.equal(h.controller.stats().queued, 0);
});

test("a client that disconnects leaves the queue at once and is never dispatched", async () => {
  const h = harness();
  h.detector.value = 2;
  const ac = new AbortController();
  const gone = h.admit(request("gone", 0, "f", { signal: ac.signal }));
  const stays = h.admit(request("stays"));
  await h.timers.turns();
  ac.abort();
  assert.equal(h.controller.stats().queued, 1, "removed synchronously on abort");
  await gone;
  h.detector.value = 0;
  h.controller.notify();
  await stays;
  assert.deepEqual(h.served, ["stays"]);
  assert.deepEqual(
    h.failed.map((f) => [f.id, f.status]),
    [["gone", 503]],
  );
});

test("round-robin fairness interleaves flows inside a band", async () => {
  const h = harness({ defaultPriorityBand: { fairnessPolicyRef: "round-robin-fairness-policy" } });
  h.detector.value = 2;
  const all = [
    ...["a1", "a2", "a3", "a4"].map((id) => h.admit(request(id, 0, "tenant-a"))),
    ...["b1", "b2"].map((id) => h.admit(request(id, 0, "tenant-b"))),
  ];
  await h.timers.turns();
  h.detector.value = 0;
  h.controller.notify();
  await h.timers.settle();
  await Promise.all(all);
  assert.deepEqual(h.served, ["a1", "b1", "a2", "b2", "a3", "a4"]);
});

test("with no endpoints requests wait; the first endpoint to appear drains the queue", async () => {
  let candidates: Candidate[] = [];
  const timers = new FakeTimers();
  const controller = new FlowController({
    settings: parseFlowControl(undefined),
    candidates: () => candidates,
    timers,
  });
  const served: string[] = [];
  const all = ["a", "b", "c"].map((id) => controller.admit(request(id)).then(() => served.push(id)));
  await timers.turns(3);
  assert.equal(controller.stats().queued, 3);
  candidates = [candidate("10.0.0.1:8000", { waiting: 0, kvCacheUsage: 0, updatedAt: timers.now() })];
  controller.notify();
  await timers.settle();
  await Promise.all(all);
  assert.deepEqual(served, ["a", "b", "c"]);
});

test("dispatch follows the detector: in-flight work counts before the next scrape", async () => {
  // One endpoint, queue threshold 2: running 0 (scraped), so in-flight requests count as waiting.
  const inFlight = { requests: 0, tokens: 0, kvTokens: 0 };
  const c: Candidate = { ...candidate("10.0.0.1:8000"), inFlight };
  const timers = new FakeTimers();
  const controller = new FlowController({
    settings: parseFlowControl({
      saturationDetector: { type: "utilization-detector", parameters: { queueDepthThreshold: 2 } },
    }),
    candidates: () => [{ ...c, metrics: { ...c.metrics, updatedAt: timers.now() } }],
    timers,
  });
  const served: string[] = [];
  const all = ["a", "b", "c", "d"].map((id) =>
    controller.admit(request(id)).then(() => {
      served.push(id);
      inFlight.requests++; // what the director does when it sends the request
    }),
  );
  await timers.settle(20);
  assert.deepEqual(served, ["a", "b"], "two in flight saturate a server with threshold 2");
  inFlight.requests--;
  controller.notify();
  await timers.turns(3);
  assert.deepEqual(served, ["a", "b", "c"]);
  controller.close();
  await Promise.allSettled(all);
});

test("requests charged at admission (onAdmitted) pass in the same turn up to the room, each seen by the next check", async () => {
  // Concurrency 3 on one endpoint: the caller charges in-flight synchronously in onAdmitted.
  const inFlight = { requests: 0, tokens: 0, kvTokens: 0 };
  const timers = new FakeTimers();
  const controller = new FlowController({
    settings: parseFlowControl({
      reclaimWindow: 0,
      saturationDetector: { type: "concurrency-detector", parameters: { maxConcurrency: 3 } },
    }),
    candidates: () => [{ ...candidate("10.0.0.1:8000"), inFlight }],
    timers,
  });
  const admittedAt: { id: string; turn: number }[] = [];
  let turn = 0;
  const charged = (id: string) => ({
    ...request(id),
    onAdmitted: () => {
      admittedAt.push({ id, turn });
      inFlight.requests++;
    },
  });
  // A burst in one turn: three pass at once (no turn in between), the others queue.
  const all = ["a", "b", "c", "d", "e", "f"].map((id) => controller.admit(charged(id)));
  assert.deepEqual(
    admittedAt.map((x) => x.id),
    ["a", "b", "c"],
  );
  assert.equal(controller.stats().queued, 3);
  // Two finish: one notify releases exactly two, in the same turn.
  turn = 1;
  inFlight.requests -= 2;
  controller.notify();
  assert.deepEqual(
    admittedAt.filter((x) => x.turn === 1).map((x) => x.id),
    ["d", "e"],
  );
  assert.equal(controller.stats().queued, 1);
  await timers.turns(3);
  assert.equal(controller.stats().queued, 1, "nothing more passes until room frees");
  controller.close();
  await Promise.allSettled(all);
});

test("close() rejects every waiting request with 503", async () => {
  const h = harness();
  h.detector.value = 2;
  const all = [h.admit(request("a")), h.admit(request("b", 3))];
  await h.timers.turns();
  h.controller.close();
  await Promise.all(all);
  assert.deepEqual(
    h.failed.map((f) => f.status),
    [503, 503],
  );
  assert.equal(h.controller.stats().queued, 0);
});

test("a burst of sheddable requests is not shed while the pool has room", async () => {
  const h = harness();
  const all = ["x1", "x2", "x3"].map((id) => h.admit(request(id, -1)));
  await h.timers.settle();
  await Promise.all(all);
  assert.deepEqual(h.served, ["x1", "x2", "x3"]);
  assert.deepEqual(h.failed, []);
});

test("sheddable requests still waiting when the pool saturates are refused with 429", async () => {
  const h = harness();
  const all = ["x1", "x2", "x3"].map((id) => h.admit(request(id, -1)));
  h.detector.value = 2; // x1 passed at once; x2 and x3 wait for the next turn, which finds the pool full
  await h.timers.settle();
  await Promise.all(all);
  assert.deepEqual(h.served, ["x1"]);
  assert.deepEqual(
    h.failed.map((f) => [f.id, f.status, f.code]),
    [
      ["x2", 429, "request_shed"],
      ["x3", 429, "request_shed"],
    ],
  );
});

test("by default Critical (priority > 0) may fill the headroom the thresholds keep: it passes at 1.1, Standard waits", async () => {
  const h = harness();
  h.detector.value = 1.1;
  await h.admit(request("c", 1));
  const s = h.admit(request("s", 0));
  await h.timers.turns(3);
  assert.deepEqual(h.served, ["c"]);
  h.detector.value = 0;
  h.controller.notify();
  await s;
  assert.deepEqual(h.served, ["c", "s"]);
});

test("while a higher band is active, lower bands leave the active reserve free; afterwards they use it all", async () => {
  const timers = new FakeTimers();
  const detector = new SettableDetector();
  const controller = new FlowController({
    settings: parseFlowControl({ activeReserve: 0.2, activeWindow: "10s" }),
    detector,
    candidates: () => [],
    timers,
  });
  const served: string[] = [];
  const admit = (id: string, p: number) => controller.admit(request(id, p)).then(() => served.push(id));
  await admit("standard-alone", 0);
  detector.value = 0.5;
  const critical = admit("critical", 1); // waits for the next turn: one release per turn
  await timers.settle();
  await critical;
  detector.value = 0.9; // below Standard's 1.0, but inside the 0.2 reserve of the active Critical band
  const waiting = admit("standard", 0);
  await timers.turns(3);
  assert.deepEqual(served, ["standard-alone", "critical"]);
  await timers.advance(10_001); // Critical idle for longer than the window
  controller.notify();
  await waiting;
  assert.deepEqual(served, ["standard-alone", "critical", "standard"]);
});

test("after a Critical completion, lower bands wait the reclaim window so the next Critical request takes the room", async () => {
  const h = harness({ reclaimWindow: "50ms" });
  await h.admit(request("c1", 1));
  h.detector.value = 2;
  const standard = h.admit(request("s", 0));
  await h.timers.turns(2);
  h.detector.value = 0.7; // c1 finished: room again, but no more than the active reserve (0.2) below 0.8
  h.controller.notify(1);
  await h.timers.turns(3);
  assert.deepEqual(h.served, ["c1"], "Standard held back during the reclaim window");
  await h.admit(request("c2", 1)); // the Critical client's next request takes the room at once
  await h.timers.advance(49);
  assert.deepEqual(h.served, ["c1", "c2"], "still held 1 ms before the window ends");
  await h.timers.advance(1);
  await standard; // released by the window's timer, with no further notify
  assert.deepEqual(h.served, ["c1", "c2", "s"]);
});

test("a completion in the same or a lower band does not hold anyone back", async () => {
  const h = harness({ reclaimWindow: "10s" });
  h.detector.value = 2;
  const s = h.admit(request("s", 0));
  await h.timers.turns();
  h.detector.value = 0;
  h.controller.notify(0);
  await s;
  assert.deepEqual(h.served, ["s"]);
});

test("arriving Critical requests go to the servers first; a held lower band still passes within ten windows", async () => {
  const h = harness({ reclaimWindow: "20ms" });
  h.detector.value = 0.7; // room for Standard below 0.8, but no more than the active reserve
  await h.admit(request("c0", 1)); // Critical is arriving
  const standard = h.admit(request("s", 0)); // room, but held: Critical clients are still arriving
  await h.timers.turns(3);
  assert.deepEqual(h.served, ["c0"]);
  // A steady stream of Critical arrivals, 5 ms apart, for far longer than ten windows.
  let streamEnded = false;
  const stream = (async () => {
    for (let i = 1; i <= 100; i++) {
      await h.admit(request(`c${i}`, 1));
      await h.timers.advance(5);
    }
    streamEnded = true;
  })();
  await standard;
  assert.equal(streamEnded, false, "Standard passed while Critical was still streaming");
  assert.ok(h.served.indexOf("s") > 1, "but only after the Critical requests that were arriving");
  await stream;
});

test("work-conserving: with more room than the active reserve, Standard passes at once while Critical flows (default reclaim window)", async () => {
  // No queue TTL, so that the only timeout the controller could arm is the reclaim window's.
  const h = harness({ reclaimWindow: "100ms", defaultRequestTTL: "0s" });
  // Critical requests flow at saturation 0: dispatches and completions every 10 ms.
  for (let i = 0; i < 5; i++) {
    await h.admit(request(`c${i}`, 1));
    h.controller.notify(1);
    await h.timers.advance(10);
  }
  const standard = h.admit(request("s", 0));
  await h.timers.turns(2);
  assert.deepEqual(
    h.served.at(-1),
    "s",
    "Standard dispatched at once on the idle pool, not after the window",
  );
  await standard;
  // The same holds when the pool is half full (room 0.3 > reserve 0.2 below Standard's 0.8).
  h.detector.value = 0.5;
  await h.admit(request("c5", 1));
  const second = h.admit(request("s2", 0));
  await h.timers.turns(2);
  assert.equal(h.served.at(-1), "s2");
  await second;
  assert.equal(h.timers.timeouts, 0, "no reclaim timer armed");
});
