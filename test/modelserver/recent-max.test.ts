import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentMax } from "../../src/modelserver/recent-max.ts";

test("RecentMax: the largest of the last N values, negatives as 0, old ones forgotten", () => {
  const m = new RecentMax(3);
  assert.equal(m.record(-4), 0);
  assert.equal(m.record(7), 7);
  assert.equal(m.record(2), 7);
  assert.equal(m.record(1), 7);
  assert.equal(m.record(0), 2, "7 left the window");
  assert.equal(m.record(0), 1);
  assert.equal(m.record(0), 0);
});
