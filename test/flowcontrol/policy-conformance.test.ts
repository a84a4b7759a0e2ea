/**
 * One conformance suite over every registered queue (with every ordering it can hold), every
 * ordering policy and every fairness policy. A plugin added to a registry runs it automatically.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { FlowControlPlugins } from "../../src/flowcontrol/builtin-plugins.ts";
import type {
  BandFlows,
  FairnessPolicy,
  FlowQueue,
  OrderingPolicy,
  QueueFactory,
} from "../../src/flowcontrol/policy-types.ts";
import { QueuedRequest } from "../../src/flowcontrol/queued-request.ts";
import { BUILTIN_REGISTRY } from "../../src/plugins/builtin-registry.ts";
import { request } from "./helpers.ts";

/** A fresh instance of every registered type of `kind`, by type name. */
function registered<K extends keyof FlowControlPlugins>(
  kind: K,
): Record<string, () => FlowControlPlugins[K]> {
  return Object.fromEntries(
    BUILTIN_REGISTRY.types([kind]).map((type) => [type, () => BUILTIN_REGISTRY.create({ type }, kind, kind)]),
  );
}

const orderingPolicies: Record<string, OrderingPolicy> = Object.fromEntries(
  Object.entries(registered("ordering-policy")).map(([type, create]) => [type, create()]),
);
const queueKinds: Record<string, QueueFactory> = Object.fromEntries(
  Object.entries(registered("queue")).map(([type, create]) => [type, create()]),
);
const fairnessPolicies: Record<string, () => FairnessPolicy> = registered("fairness-policy");

/** Items with given deadlines (Infinity allowed), arrival order = index. */
function items(deadlines: readonly number[], flowId = "f"): QueuedRequest[] {
  return deadlines.map((d, i) => new QueuedRequest(request(`r${i}`, 0, flowId, { bytes: i + 1 }), i, 0, d));
}

const deadline = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(Number.POSITIVE_INFINITY));

for (const [queueType, kind] of Object.entries(queueKinds)) {
  for (const ordering of Object.values(orderingPolicies).filter((o) => kind.supports(o))) {
    describe(`queue conformance: ${queueType} with ${ordering.type}`, () => {
      const make = (): FlowQueue => kind.newQueue("f", ordering);

      test("an empty queue has nothing to give", () => {
        const q = make();
        assert.equal(q.type, queueType);
        assert.equal(q.length, 0);
        assert.equal(q.bytes, 0);
        assert.equal(q.peek(), undefined);
        assert.equal(q.pop(), undefined);
      });

      test("pops in the ordering policy's order, and peek agrees with pop", () => {
        fc.assert(
          fc.property(fc.array(deadline, { maxLength: 60 }), (ds) => {
            const q = make();
            const all = items(ds);
            for (const it of all) q.add(it);
            const expected = [...all].sort((a, b) => ordering.compare(a, b));
            const got: QueuedRequest[] = [];
            for (let head = q.peek(); head; head = q.peek()) {
              assert.equal(q.pop(), head);
              got.push(head);
            }
            assert.deepEqual(
              got.map((i) => i.seq),
              expected.map((i) => i.seq),
            );
            assert.equal(q.length, 0);
            assert.equal(q.bytes, 0);
          }),
        );
      });

      test("removes any item exactly once and keeps the rest in order", () => {
        fc.assert(
          fc.property(
            fc.array(deadline, { minLength: 1, maxLength: 40 }),
            fc.array(fc.nat()),
            (ds, picks) => {
              const q = make();
              const all = items(ds);
              for (const it of all) q.add(it);
              const removed = new Set<QueuedRequest>();
              for (const p of picks) {
                const it = all[p % all.length]!;
                assert.equal(q.remove(it), !removed.has(it));
                removed.add(it);
              }
              const left = all.filter((i) => !removed.has(i));
              assert.equal(q.length, left.length);
              assert.equal(
                q.bytes,
                left.reduce((s, i) => s + i.request.bytes, 0),
              );
              const order: number[] = [];
              for (let it = q.pop(); it; it = q.pop()) order.push(it.seq);
              assert.deepEqual(
                order,
                [...left].sort((a, b) => ordering.compare(a, b)).map((i) => i.seq),
              );
            },
          ),
        );
      });

      test("refuses to remove an item it does not hold", () => {
        const q = make();
        const other = make();
        const [a, b] = items([1, 2]);
        q.add(a!);
        other.add(b!);
        assert.equal(q.remove(b!), false);
        assert.equal(other.length, 1);
        assert.equal(q.remove(a!), true);
        assert.equal(q.remove(a!), false);
      });
    });
  }
}

for (const ordering of Object.values(orderingPolicies)) {
  describe(`ordering conformance: ${ordering.type}`, () => {
    test("is a strict total order (irreflexive, antisymmetric, transitive)", () => {
      fc.assert(
        fc.property(fc.array(deadline, { minLength: 3, maxLength: 3 }), (ds) => {
          const [a, b, c] = items(ds) as [QueuedRequest, QueuedRequest, QueuedRequest];
          assert.equal(ordering.compare(a, a), 0);
          assert.equal(Math.sign(ordering.compare(a, b)), -Math.sign(ordering.compare(b, a)));
          assert.notEqual(ordering.compare(a, b), 0, "distinct requests never tie");
          if (ordering.compare(a, b) < 0 && ordering.compare(b, c) < 0) assert.ok(ordering.compare(a, c) < 0);
        }),
      );
    });

    test("among equal deadlines, the earlier arrival goes first", () => {
      const [a, b] = items([5, 5]) as [QueuedRequest, QueuedRequest];
      assert.ok(ordering.compare(a, b) < 0);
    });
  });
}

test("fcfs-ordering-policy ignores deadlines; edf-ordering-policy serves the earliest deadline, none last", () => {
  const [late, early, none] = items([30, 10, Number.POSITIVE_INFINITY]) as [
    QueuedRequest,
    QueuedRequest,
    QueuedRequest,
  ];
  const fcfs = orderingPolicies["fcfs-ordering-policy"]!;
  const edf = orderingPolicies["edf-ordering-policy"]!;
  assert.ok(fcfs.compare(late, early) < 0);
  assert.ok(edf.compare(early, late) < 0);
  assert.ok(edf.compare(late, none) < 0);
});

/** A band view over flows built from {flowId: deadlines[]}. */
function band(
  flows: Record<string, number[]>,
  ordering: OrderingPolicy,
): BandFlows & { queues: Map<string, FlowQueue> } {
  const queues = new Map<string, FlowQueue>();
  let seq = 0;
  for (const [id, ds] of Object.entries(flows)) {
    if (ds.length === 0) continue;
    const q = queueKinds["heap-queue"]!.newQueue(id, ordering);
    for (const d of ds) q.add(new QueuedRequest(request(`${id}-${seq}`, 0, id), seq++, 0, d));
    queues.set(id, q);
  }
  const ids = [...queues.keys()].sort();
  return { ids, queue: (id) => queues.get(id)!, ordering, queues };
}

for (const [type, create] of Object.entries(fairnessPolicies)) {
  describe(`fairness conformance: ${type}`, () => {
    test("gives nothing for an empty band", () => {
      assert.equal(create().pick(band({}, orderingPolicies["fcfs-ordering-policy"]!)), undefined);
    });

    test("is work-conserving: always picks a listed non-empty flow while any has work", () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.array(deadline, { maxLength: 5 })),
          (flows) => {
            const policy = create();
            const b = band(flows, orderingPolicies["edf-ordering-policy"]!);
            let total = [...b.queues.values()].reduce((s, q) => s + q.length, 0);
            while (total > 0) {
              const ids = [...b.queues.entries()].filter(([, q]) => q.length > 0).map(([id]) => id);
              const view: BandFlows = { ids, queue: b.queue, ordering: b.ordering };
              const q = policy.pick(view);
              assert.ok(q, "picked a flow");
              assert.ok(ids.includes(q.flowId));
              assert.ok(q.pop());
              total--;
            }
          },
        ),
      );
    });
  });
}

test("global-strict fairness serves the best head across the band (the band acts as one queue)", () => {
  const fcfs = orderingPolicies["fcfs-ordering-policy"]!;
  const b = band({ a: [0, 0, 0], b: [0] }, fcfs);
  assert.equal(fairnessPolicies["global-strict-fairness-policy"]!().pick(b)?.flowId, "a");
  const edf = orderingPolicies["edf-ordering-policy"]!;
  const d = band({ a: [50], b: [10] }, edf);
  assert.equal(fairnessPolicies["global-strict-fairness-policy"]!().pick(d)?.flowId, "b");
});

test("round-robin fairness cycles through flows in sorted order, skipping absent ones", () => {
  const fcfs = orderingPolicies["fcfs-ordering-policy"]!;
  const policy = fairnessPolicies["round-robin-fairness-policy"]!();
  const b = band({ c: [0, 0], a: [0, 0], b: [0, 0] }, fcfs);
  const picks = [0, 1, 2, 3].map(() => policy.pick(b)?.flowId);
  assert.deepEqual(picks, ["a", "b", "c", "a"]);
  const withoutB: BandFlows = { ids: ["a", "c"], queue: b.queue, ordering: fcfs };
  assert.equal(policy.pick(withoutB)?.flowId, "c");
});
