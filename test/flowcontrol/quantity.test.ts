import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration, parseQuantity } from "../../src/flowcontrol/quantity.ts";

test("quantities accept integers and Kubernetes suffixes", () => {
  assert.equal(parseQuantity(1000), 1000);
  assert.equal(parseQuantity("512Mi"), 512 * 1024 * 1024);
  assert.equal(parseQuantity("1G"), 1e9);
  assert.equal(parseQuantity("10Gi"), 10 * 2 ** 30);
  assert.equal(parseQuantity("1e6"), 1e6);
  assert.equal(parseQuantity("0"), 0);
});

test("bad quantities say what is accepted", () => {
  assert.throws(() => parseQuantity("12 apples"), /not a quantity \(examples: 1000, 512Mi/);
  assert.throws(() => parseQuantity(-1), /whole number >= 0/);
  assert.throws(() => parseQuantity(1.5), /whole number >= 0/);
});

test("durations follow Go's syntax", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("200ms"), 200);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("0"), 0);
  assert.throws(() => parseDuration("30"), /not a duration/);
  assert.throws(() => parseDuration("5 minutes"), /not a duration/);
});
