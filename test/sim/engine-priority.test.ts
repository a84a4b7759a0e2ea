import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../src/sim/api-error.ts";
import { parseGenerationRequest } from "../../src/sim/request-parse.ts";
import { Engine, req, run, testConfig } from "./engine-helpers.ts";

// vLLM V1 (v1/core/sched/scheduler.py, request_queue.py) under --scheduling-policy priority: the
// waiting queue is a heap on (priority, arrival); when a running request cannot get a KV block the
// victim is max(running, key=(priority, arrival)), the first such request on ties; if the request
// itself is the victim the running pass stops; a waiting request never preempts a running one.

const priority = (over = {}) => testConfig({ schedulingPolicy: "priority", ...over });

function finishOrder(e: Engine): string[] {
  const order: string[] = [];
  run(e, undefined, (evs) => {
    for (const ev of evs) if (ev.finish) order.push(ev.seq.id);
  });
  return order;
}

test("the waiting queue is served by (priority, arrival): lower values first, FCFS among equals", () => {
  const e = new Engine(priority({ maxNumSeqs: 1 }));
  e.add(req("late-low", 4, 1, { priority: 5 }, 100), 2);
  e.add(req("low", 4, 1, { priority: 5 }, 200), 0);
  e.add(req("high", 4, 1, { priority: -1 }, 300), 3);
  e.add(req("mid", 4, 1, { priority: 0 }, 400), 1);
  assert.deepEqual(finishOrder(e), ["high", "mid", "low", "late-low"]);
});

test("fcfs ignores priority and serves by arrival", () => {
  const e = new Engine(testConfig({ maxNumSeqs: 1 }));
  e.add(req("a", 4, 1, { priority: 5 }, 100), 0);
  e.add(req("b", 4, 1, { priority: -1 }, 200), 1);
  assert.deepEqual(finishOrder(e), ["a", "b"]);
});

/** Three 3-token prompts in 4-token blocks on a 4-block pool: the third decode step needs 3 more blocks. */
function pressured(prios: [number, number, number]): Engine {
  const e = new Engine(priority({ numGpuBlocks: 4, maxModelLen: 16, blockSize: 4 }));
  for (const [i, id] of ["A", "B", "C"].entries()) e.add(req(id, 3, 6, { priority: prios[i] }, i * 100), 0);
  let now = 0;
  for (let step = 0; step < 2; step++) {
    const p = e.schedule(now)!;
    now += p.durationMs;
    e.complete(p, now);
  }
  return e;
}

test("out of KV blocks, the victim is the worst (priority, arrival), the first one on ties", () => {
  const e = pressured([0, 1, 1]);
  const plan = e.schedule(100)!;
  const [a, b, c] = ["A", "B", "C"].map(
    (id) => [...e.runningSeqs, ...e.waitingSeqs].find((s) => s.id === id)!,
  );
  assert.equal(plan.preempted, 1);
  assert.equal(b!.status, "waiting", "B and C tie on (1, 0): max() takes the first, B");
  assert.equal(b!.numComputed, 0, "preemption by recompute");
  assert.equal(c!.status, "running");
  assert.deepEqual(
    plan.chunks.map((x) => x.seq.id),
    ["A"],
    "B preempted itself, so the running pass stops and C gets no tokens in this step",
  );
  assert.equal(a!.preemptions, 0);
});

test("among equal priorities the latest arrival is preempted, not the request that needs the block", () => {
  const e = new Engine(priority({ numGpuBlocks: 4, maxModelLen: 16, blockSize: 4 }));
  e.add(req("X", 3, 6, { priority: 1 }, 0), 0);
  e.add(req("Z", 3, 6, { priority: 0 }, 100), 0);
  let now = 0;
  const step = () => {
    const p = e.schedule(now)!;
    now += p.durationMs;
    e.complete(p, now);
    return p;
  };
  step();
  e.add(req("Y", 3, 6, { priority: 1 }, 200), now); // arrives later, same priority as X
  let p = step();
  for (let i = 0; i < 5 && p.preempted === 0; i++) p = step(); // X and Z decode into second blocks
  const y = [...e.runningSeqs, ...e.waitingSeqs].find((s) => s.id === "Y")!;
  assert.equal(p.preempted, 1);
  assert.equal(y.status, "waiting", "Y (priority 1, latest arrival) is the victim");
  assert.ok(e.runningSeqs.some((s) => s.id === "X") && e.runningSeqs.some((s) => s.id === "Z"));
});

test("a step whose only scheduled request preempted itself still runs the others (no idle engine with work)", () => {
  // Two 4-token blocks. low runs first; high (more important) is admitted beside it. When low needs
  // its second block none is free and low, the worst, is its own victim: the running pass stops
  // with nothing scheduled. vLLM's loop schedules again at once; the engine must not go idle there.
  const e = new Engine(priority({ numGpuBlocks: 2, blockSize: 4, maxModelLen: 16 }));
  let now = 0;
  const step = () => {
    const p = e.schedule(now);
    assert.ok(p !== null, "an engine with running work schedules a step");
    now += p.durationMs;
    e.complete(p, now);
    return p;
  };
  e.add(req("low", 3, 4, { priority: 5 }, 0), 0);
  step();
  e.add(req("high", 3, 4, { priority: 0 }, 100), now);
  step();
  const p = step();
  assert.equal(p.preempted, 1);
  assert.deepEqual(
    p.chunks.map((c) => c.seq.id),
    ["high"],
  );
  assert.deepEqual(finishOrder(e), ["high", "low"]);
});

test("a higher-priority waiting request does not preempt running ones (vLLM V1); it goes first once there is room", () => {
  const e = new Engine(priority({ maxNumSeqs: 1 }));
  const running = e.add(req("running-low", 4, 8, { priority: 9 }, 0), 0);
  const p = e.schedule(0)!;
  e.complete(p, p.durationMs);
  e.add(req("waiting-low", 4, 1, { priority: 9 }, 100), p.durationMs);
  e.add(req("high", 4, 1, { priority: 0 }, 200), p.durationMs + 1);
  assert.deepEqual(finishOrder(e), ["running-low", "high", "waiting-low"]);
  assert.equal(running.preemptions, 0);
});

test("with fcfs a non-zero priority is rejected with vLLM's message; 0 and absent are accepted", () => {
  const body = (priority: unknown) => ({ prompt: "a b c", max_tokens: 2, priority });
  assert.throws(
    () => parseGenerationRequest(body(3), false, 100, false),
    (e: unknown) =>
      e instanceof ApiError &&
      e.status === 400 &&
      e.message === "Got priority 3 but Priority scheduling is not enabled.",
  );
  assert.equal(parseGenerationRequest(body(0), false, 100, false).priority, 0);
  assert.equal(parseGenerationRequest(body(undefined), false, 100, false).priority, 0);
  assert.equal(parseGenerationRequest(body(-7), false, 100, true).priority, -7);
  assert.throws(() => parseGenerationRequest(body(1.5), false, 100, true), /integer/);
});
