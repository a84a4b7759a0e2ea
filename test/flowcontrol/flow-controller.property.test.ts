/**
 * Properties of the flow controller under random traffic (fast-check): nothing is lost or served
 * twice, bands leave in strict priority order, round-robin keeps backlogged flows within one
 * dispatch of each other, and a disconnected or expired request is never dispatched.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { harness, request } from "./helpers.ts";

const priority = fc.constantFrom(-1, 0, 0, 5, 10);
const flow = fc.constantFrom("a", "b", "c");

type Op =
  | { op: "admit"; priority: number; flow: string }
  | { op: "abort"; index: number }
  | { op: "saturation"; value: number }
  | { op: "notify" }
  | { op: "turn" }
  | { op: "sleep" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("admit" as const), priority, flow }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("abort" as const), index: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("saturation" as const), value: fc.constantFrom(0, 0.5, 1, 2) }),
  },
  { weight: 2, arbitrary: fc.constant({ op: "notify" as const }) },
  { weight: 2, arbitrary: fc.constant({ op: "turn" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "sleep" as const }) },
);

test("every request settles exactly once; disconnected and expired ones are never dispatched", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.boolean(), async (ops, withTtl) => {
      const h = harness({
        queueSheddable: true,
        maxRequests: 25,
        ...(withTtl && { defaultRequestTTL: "3ms" }),
      });
      const controllers: AbortController[] = [];
      const settled = new Map<string, string>();
      const pending: Promise<void>[] = [];
      for (const o of ops) {
        if (o.op === "admit") {
          const id = `r${controllers.length}`;
          const ac = new AbortController();
          controllers.push(ac);
          pending.push(
            h.controller.admit(request(id, o.priority, o.flow, { signal: ac.signal })).then(
              () => {
                assert.equal(settled.has(id), false, `${id} settled twice`);
                assert.equal(ac.signal.aborted, false, `${id} dispatched after its client left`);
                settled.set(id, "served");
              },
              (e: { toJSON(): { error: { code: string } } }) => {
                assert.equal(settled.has(id), false, `${id} settled twice`);
                settled.set(id, e.toJSON().error.code);
              },
            ),
          );
        } else if (o.op === "abort" && controllers.length > 0) {
          controllers[o.index % controllers.length]!.abort();
        } else if (o.op === "saturation") {
          h.detector.value = o.value;
        } else if (o.op === "notify") {
          h.controller.notify();
        } else if (o.op === "turn") {
          await h.timers.turns();
        } else if (o.op === "sleep") {
          await h.timers.advance(4);
        }
        // Let the callbacks of releases made so far run, so `settled` is current before the next op.
        for (let i = 0; i < 3; i++) await Promise.resolve();
      }
      h.detector.value = 0;
      h.controller.notify();
      await h.timers.settle();
      await Promise.all(pending);
      assert.equal(settled.size, controllers.length, "no request lost");
      assert.equal(h.controller.stats().queued, 0);
      for (const [id, outcome] of settled) {
        if (outcome === "queue_timeout") {
          assert.ok(
            withTtl || controllers[Number(id.slice(1))]!.signal.aborted,
            `${id} timed out without TTL`,
          );
        }
      }
    }),
    { numRuns: 150 },
  );
});

test("under saturation, queued bands leave in strict priority order, FCFS within a flow", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ priority: fc.constantFrom(0, 1, 5, 10), flow }), { minLength: 1, maxLength: 80 }),
      async (arrivals) => {
        const h = harness();
        h.detector.value = 2;
        const all = arrivals.map((a, i) => h.admit(request(`${i}`, a.priority, a.flow)));
        await h.timers.turns();
        h.detector.value = 0;
        h.controller.notify();
        await h.timers.settle();
        await Promise.all(all);
        const order = h.served.map(Number);
        assert.equal(order.length, arrivals.length);
        for (let i = 1; i < order.length; i++) {
          const prev = arrivals[order[i - 1]!]!;
          const cur = arrivals[order[i]!]!;
          assert.ok(prev.priority >= cur.priority, "a lower band was served before a higher one");
          if (prev.priority === cur.priority && prev.flow === cur.flow) assert.ok(order[i - 1]! < order[i]!);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test("a saturated pool releases nothing, whatever arrives", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ priority: fc.constantFrom(0, 1, 5), flow }), { maxLength: 40 }),
      async (arrivals) => {
        const h = harness();
        h.detector.value = 2;
        const all = arrivals.map((a, i) => h.admit(request(`${i}`, a.priority, a.flow)));
        for (let i = 0; i < 3; i++) {
          h.controller.notify();
          await h.timers.turns();
        }
        assert.deepEqual(h.served, []);
        h.controller.close();
        await Promise.all(all);
      },
    ),
    { numRuns: 50 },
  );
});

test("round-robin fairness keeps backlogged flows within one dispatch of each other", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(flow, { minLength: 1, maxLength: 90 }),
      fc.integer({ min: 1, max: 5 }),
      async (flows, step) => {
        const h = harness({ defaultPriorityBand: { fairnessPolicyRef: "round-robin-fairness-policy" } });
        h.detector.value = 2;
        const all = flows.map((f, i) => h.admit(request(`${f}:${i}`, 0, f)));
        await h.timers.turns();
        // Release in steps of `step` dispatches, checking the per-flow counts between steps.
        const backlog = new Map<string, number>();
        for (const f of flows) backlog.set(f, (backlog.get(f) ?? 0) + 1);
        h.detector.value = 0;
        h.controller.notify();
        await h.timers.settle();
        await Promise.all(all);
        const served = new Map<string, number>();
        for (let i = 0; i < h.served.length; i++) {
          const f = h.served[i]!.split(":")[0]!;
          served.set(f, (served.get(f) ?? 0) + 1);
          if ((i + 1) % step !== 0) continue;
          const active = [...backlog.keys()].filter((k) => (served.get(k) ?? 0) < backlog.get(k)!);
          const counts = [...backlog.keys()]
            .filter((k) => active.includes(k) || (served.get(k) ?? 0) === backlog.get(k))
            .map((k) => served.get(k) ?? 0);
          // Every flow still backlogged has been served at least as often as any other minus one.
          for (const k of active) {
            assert.ok((served.get(k) ?? 0) >= Math.max(...counts) - 1, `flow ${k} fell behind`);
          }
        }
      },
    ),
    { numRuns: 100 },
  );
});
