import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestDeadlines } from "../../src/proxy/request-deadlines.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";

test("each deadline fires once at its time, never before; cancelled ones never fire", async () => {
  const timers = new FakeTimers();
  const d = new RequestDeadlines(timers);
  const fired: string[] = [];
  const at = (name: string) => () => fired.push(`${name}@${timers.now() - 1_000_000}`);
  d.start(100, at("a"));
  await timers.advance(30);
  const b = d.start(100, at("b"));
  d.start(50, at("short"));
  await timers.advance(40);
  d.start(100, at("c"));
  assert.equal(timers.timeouts, 2, "one timer per duration");
  b.cancel();
  b.cancel();
  await timers.advance(29);
  assert.deepEqual(fired, ["short@80"]);
  await timers.advance(1);
  assert.deepEqual(fired, ["short@80", "a@100"]);
  await timers.advance(200);
  assert.deepEqual(fired, ["short@80", "a@100", "c@170"]);
  assert.equal(timers.timeouts, 0, "no timer left armed once every deadline is settled");
});

test("a callback may cancel a later deadline or start a new one", async () => {
  const timers = new FakeTimers();
  const d = new RequestDeadlines(timers);
  const fired: string[] = [];
  let second: { cancel(): void } | undefined;
  d.start(10, () => {
    fired.push("first");
    second?.cancel();
    d.start(10, () => fired.push("started inside"));
  });
  second = d.start(10, () => fired.push("second"));
  await timers.advance(10);
  assert.deepEqual(fired, ["first"]);
  await timers.advance(10);
  assert.deepEqual(fired, ["first", "started inside"]);
});

test("thousands started and cancelled out of order: only the live ones fire, in order", async () => {
  const timers = new FakeTimers();
  const d = new RequestDeadlines(timers);
  const fired: number[] = [];
  const handles = [];
  for (let i = 0; i < 5000; i++) {
    handles.push(d.start(1000, () => fired.push(i)));
    if (i % 10 === 9) await timers.advance(1);
  }
  // A long request stays first in line while everything behind it ends.
  for (let i = 1; i < 5000; i++) if (i % 7 !== 0) handles[i]!.cancel();
  await timers.advance(2000);
  const expected = [0];
  for (let i = 7; i < 5000; i += 7) expected.push(i);
  assert.deepEqual(fired, expected);
});
