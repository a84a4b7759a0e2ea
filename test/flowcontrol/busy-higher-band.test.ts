/**
 * Lower bands under a busy higher band (one that is active or has requests waiting): a lower
 * band's request yields one turn, so higher-band requests arriving in the same turn are admitted
 * first (a burst of both classes), and it waits while the pool's projected KV use (the in-flight
 * requests' mean KV footprints against the servers' KV capacity) reaches `activeKvLimit`. With no
 * higher band busy neither applies: Standard alone passes at once, whatever its projected KV.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import type { FlowRequest, SaturationDetector } from "../../src/flowcontrol/types.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";
import { candidate, request } from "./helpers.ts";

/**
 * Saturation = dispatched-and-unfinished requests × `perRequest` (default ¼: with Critical active,
 * Standard's 0.8 passes 3, Critical's 1.25 passes 4).
 */
class CountingDetector implements SaturationDetector {
  readonly type = "counting";
  readonly name = "counting";
  inFlight = 0;
  perRequest = 0.25;
  saturation(): number {
    return this.inFlight * this.perRequest;
  }
}

/**
 * A controller on a fake clock over two servers of 100 KV blocks of 16 tokens (3,200 tokens);
 * each admitted request is charged at admission (as the exchange does) with `kvTokens` on server 0.
 */
function busyHarness(flowControl: Record<string, unknown> = {}) {
  const timers = new FakeTimers();
  const detector = new CountingDetector();
  const servers: Candidate[] = ["10.0.0.1:8000", "10.0.0.2:8000"].map((id) =>
    candidate(id, { numGpuBlocks: 100, blockSize: 16, updatedAt: timers.now() }),
  );
  const controller = new FlowController({
    settings: parseFlowControl({ reclaimWindow: 0, ...flowControl }),
    detector,
    candidates: () => servers,
    timers,
  });
  const dispatched: string[] = [];
  const charged = (id: string, priority: number, kvTokens = 0): FlowRequest => ({
    ...request(id, priority, priority > 0 ? "critical" : "standard"),
    onAdmitted: () => {
      dispatched.push(id);
      detector.inFlight++;
      servers[0]!.inFlight.kvTokens += kvTokens;
    },
  });
  return { timers, detector, servers, controller, dispatched, charged };
}

test("both classes arriving in one turn: Critical is admitted first, Standard gets what room is left a turn later", async () => {
  const h = busyHarness();
  await h.controller.admit(h.charged("c0", 1)); // Critical is active
  // Interleaved in one turn, as two clients' requests arrive together: s1 c1 s2 c2 s3 c3.
  const all: Promise<void>[] = [];
  for (let i = 1; i <= 3; i++) {
    all.push(h.controller.admit(h.charged(`s${i}`, 0)));
    all.push(h.controller.admit(h.charged(`c${i}`, 1)));
  }
  // Before this turn ends: every Critical request is through (saturation 4/4 = 1 < 1.25), no Standard.
  assert.deepEqual(h.dispatched, ["c0", "c1", "c2", "c3"]);
  await h.timers.turns(3);
  assert.deepEqual(h.dispatched, ["c0", "c1", "c2", "c3"], "Standard waits: 1 ≥ its 0.8");
  h.detector.inFlight = 2; // two requests finished
  h.controller.notify();
  assert.deepEqual(
    h.dispatched,
    ["c0", "c1", "c2", "c3", "s1", "s2"],
    "then Standard in arrival order, up to 0.8",
  );
  h.detector.inFlight = 0;
  h.controller.notify();
  await Promise.all(all);
});

test("work-conserving: with no higher band busy, Standard passes at once, whatever its projected KV", async () => {
  const h = busyHarness();
  h.servers[0]!.inFlight.kvTokens = 10_000; // 3× the pool's KV
  await h.controller.admit(h.charged("s1", 0));
  assert.deepEqual(h.dispatched, ["s1"]);
  void h.controller.admit(h.charged("s2", 0));
  assert.deepEqual(h.dispatched, ["s1", "s2"], "in the same turn: no yielding without a higher band");
});

test("while Critical is active, Standard waits for projected KV below activeKvLimit, though saturation has room", async () => {
  const h = busyHarness();
  h.detector.perRequest = 0; // saturation 0 throughout: only the projected KV holds Standard
  await h.controller.admit(h.charged("c0", 1, 1000));
  const standard = ["s1", "s2", "s3", "s4"].map((id) => h.controller.admit(h.charged(id, 0, 1000)));
  await h.timers.turns(3);
  // Of 3,200 tokens: 1000 = 0.31 lets s1 pass, 2000 = 0.63 s2, 3000 = 0.94 s3; 4000 = 1.25 ≥ 1 holds s4.
  assert.deepEqual(h.dispatched, ["c0", "s1", "s2", "s3"]);
  h.controller.notify();
  await h.timers.turns(3);
  assert.deepEqual(h.dispatched, ["c0", "s1", "s2", "s3"], "s4 still waits");
  h.servers[0]!.inFlight.kvTokens -= 1000; // one request finished: 3,000 tokens = 0.94
  h.controller.notify();
  await Promise.all(standard);
  assert.deepEqual(h.dispatched, ["c0", "s1", "s2", "s3", "s4"]);
});

test("activeKvLimit 0 turns the projected-KV wait off; servers that report no KV capacity are not projected", async () => {
  /** Critical active, projected KV 3× the pool's: Standard still passes (a turn later). */
  const passesOverKv = async (h: ReturnType<typeof busyHarness>) => {
    await h.controller.admit(h.charged("c0", 1));
    h.servers[0]!.inFlight.kvTokens = 10_000;
    const s = h.controller.admit(h.charged("s", 0));
    await h.timers.turns(2);
    await s;
    assert.deepEqual(h.dispatched, ["c0", "s"]);
  };
  await passesOverKv(busyHarness({ activeKvLimit: 0 }));
  const unknown = busyHarness();
  for (const c of unknown.servers)
    (c as { metrics: Candidate["metrics"] }).metrics = { ...c.metrics, numGpuBlocks: undefined };
  await passesOverKv(unknown);
});

test("a sheddable request yielding its turn is shed, not queued, when the projected KV fills meanwhile", async () => {
  const h = busyHarness();
  await h.controller.admit(h.charged("c0", 1));
  const shed = h.controller.admit(h.charged("x", -1)).then(
    () => "dispatched",
    (e: { status: number; toJSON(): { error: { code: string } } }) => `${e.status} ${e.toJSON().error.code}`,
  );
  h.servers[0]!.inFlight.kvTokens = 3200; // before its turn: projected KV 1
  await h.timers.turns(2);
  assert.equal(await shed, "429 request_shed");
  assert.equal(h.controller.stats().queued, 0);
});
