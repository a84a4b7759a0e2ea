/** bench/virtual-clock.ts: events in time order (ties as scheduled), cancellation, Timers for a FlowController. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../bench/virtual-clock.ts";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";

test("events run in time order, ties in the order they were scheduled; cancelled ones never run", () => {
  const clock = new VirtualClock();
  const seen: string[] = [];
  clock.at(20, () => seen.push(`b@${clock.now()}`));
  clock.at(10, () => {
    seen.push(`a@${clock.now()}`);
    clock.nextTurn(() => seen.push(`a-next@${clock.now()}`));
  });
  clock.at(20, () => seen.push(`c@${clock.now()}`));
  const gone = clock.setTimeout(() => seen.push("never"), 15);
  clock.clearTimeout(gone);
  clock.run(() => false, 1000);
  assert.deepEqual(seen, ["a@10", "a-next@10", "b@20", "c@20"]);
});

test("run stops when done() holds, and refuses to pass its limit", () => {
  const clock = new VirtualClock();
  let n = 0;
  const tick = () => {
    n++;
    clock.setTimeout(tick, 10);
  };
  clock.at(0, tick);
  clock.run(() => n === 3, 1000);
  assert.equal(clock.now(), 20);
  assert.throws(() => clock.run(() => false, 100), /still busy at 100 ms/);
});

test("a FlowController's TTL runs on the virtual clock", async () => {
  const clock = new VirtualClock();
  const fc = new FlowController({
    settings: parseFlowControl({ defaultRequestTTL: "2s" }),
    candidates: () => [],
    timers: clock,
  });
  const refused = fc.admit({
    id: "r",
    priority: 0,
    flowId: "f",
    bytes: 1,
    signal: new AbortController().signal,
  });
  clock.run(() => false, 10_000);
  await assert.rejects(refused, /waited 2s in the queue/);
  assert.equal(clock.now(), 2000);
  fc.close();
});
