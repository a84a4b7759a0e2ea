import assert from "node:assert/strict";
import { test } from "node:test";
import { checkTargets, comparisonMarkdown, formatComparison } from "../../src/demo/comparison.ts";
import type { ClassKey, ClassResult } from "../../src/demo/demo-types.ts";

function cls(key: ClassKey, meanTtftMs: number, completed = 100): ClassResult {
  return {
    key,
    name: key === "critical" ? "qwen" : "travel-helper",
    completed,
    failed: 100 - completed,
    numPrompts: 100,
    errorsByStatus: {},
    meanTtftMs,
    medianTtftMs: meanTtftMs,
    p99TtftMs: meanTtftMs * 3,
    meanTpotMs: 30,
    durationS: 60,
    points: [{ sentS: 1, doneS: 2, ttftMs: meanTtftMs }],
  };
}

test("all four targets pass on a run that meets them, with the measured values shown", () => {
  const checks = checkTargets({
    queueing: { critical: cls("critical", 400), standard: cls("standard", 8000) },
    roundRobin: { critical: cls("critical", 3000), standard: cls("standard", 4000) },
    criticalAlone: cls("critical", 350),
  });
  assert.deepEqual(
    checks.map((c) => c.pass),
    [true, true, true, true],
  );
  assert.equal(checks[0]!.measured, "0.050 ×");
  assert.equal(checks[3]!.measured, "7.50 × lower");
});

test("each target fails on its own when the run misses it", () => {
  const checks = checkTargets({
    queueing: { critical: cls("critical", 3000), standard: cls("standard", 8000, 99) },
    roundRobin: { critical: cls("critical", 6000), standard: cls("standard", 4000) },
    criticalAlone: cls("critical", 1000),
  });
  assert.deepEqual(
    checks.map((c) => c.pass),
    [false, false, false, false],
  );
});

test("targets without the phase they need are not applicable, and the table shows dashes", () => {
  const input = { queueing: { critical: cls("critical", 400), standard: cls("standard", 8000) } };
  const checks = checkTargets(input);
  assert.equal(checks[2]!.pass, undefined);
  assert.equal(checks[3]!.pass, undefined);
  const text = formatComparison(input);
  assert.match(text, /Mean TTFT \(ms\) +400\.0 +— +21329\.9/);
  assert.match(text, /\[n\/a \] Critical mean TTFT ≥ 3 × lower than round robin: not run/);
  assert.match(comparisonMarkdown(input), /\| Critical \/ Standard mean TTFT \| 0\.050 \| — \| 0\.483 \|/);
});
