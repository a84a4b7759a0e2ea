// The legacy (v0.3) decision tree, branch by branch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { legacyDecisionTreeProfile } from "../../src/scheduling/default-profiles.ts";
import { legacyDecisionTree } from "../../src/scheduling/plugins/filters/legacy-decision-tree-filter.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { candidate, request } from "./fixtures.ts";

const ids = (cs: readonly Candidate[]) => cs.map((c) => c.endpoint.id).sort();
const CRITICAL = 1;
const STANDARD = 0;
const SHEDDABLE = -1;

test("non-critical: only endpoints with waiting ≤ 5 and kv ≤ 0.8, then least queue and least KV", () => {
  const tree = legacyDecisionTree(seededRng(1));
  const ok1 = candidate({ waiting: 1, kvCacheUsage: 0.3 });
  const ok2 = candidate({ waiting: 2, kvCacheUsage: 0.2 });
  const busy = candidate({ waiting: 6, kvCacheUsage: 0.1 });
  const full = candidate({ waiting: 0, kvCacheUsage: 0.9 });
  // has-capacity keeps ok1, ok2; least-queue limit = 1 + ⌊1/2⌋ = 1 → ok1.
  assert.deepEqual(ids(tree.filter(request({ priority: STANDARD }), [ok1, ok2, busy, full])), ids([ok1]));
});

test("non-critical with no endpoint under both thresholds: no endpoint (the gateway answers 429)", () => {
  const tree = legacyDecisionTree(seededRng(1));
  const cs = [candidate({ waiting: 6 }), candidate({ waiting: 0, kvCacheUsage: 0.81 })];
  assert.deepEqual(tree.filter(request({ priority: STANDARD }), cs), []);
  assert.deepEqual(tree.filter(request({ priority: SHEDDABLE }), cs), []);
  // A Critical request on the same pool is still placed.
  assert.equal(tree.filter(request({ priority: CRITICAL }), cs).length, 1);
});

test("critical: low-queue (< 128) endpoints, LoRA affinity first, then least queue / least KV", () => {
  const tree = legacyDecisionTree(seededRng(1));
  const loaded = candidate({ waiting: 50, kvCacheUsage: 0.95, active: ["a1"], maxActiveAdapters: 2 });
  const idle = candidate({ waiting: 0, kvCacheUsage: 0.1, maxActiveAdapters: 0 });
  const swamped = candidate({ waiting: 200, active: ["a1"], maxActiveAdapters: 2 });
  const req = request({ priority: CRITICAL, targetModel: "a1", isAdapter: true });
  assert.deepEqual(ids(tree.filter(req, [loaded, idle, swamped])), ids([loaded]));
});

test("critical when every endpoint queues ≥ 128: least queue first, then LoRA, then least KV", () => {
  const tree = legacyDecisionTree(seededRng(1));
  const a = candidate({ waiting: 130, kvCacheUsage: 0.5, active: ["a1"], maxActiveAdapters: 1 });
  const b = candidate({ waiting: 131, kvCacheUsage: 0.1, maxActiveAdapters: 1 });
  const c = candidate({ waiting: 400, kvCacheUsage: 0.0, active: ["a1"], maxActiveAdapters: 1 });
  const req = request({ priority: CRITICAL, targetModel: "a1", isAdapter: true });
  // least-queue: limit 130 + ⌊270/3⌋ = 220 → a, b; LoRA affinity → a.
  assert.deepEqual(ids(tree.filter(req, [a, b, c])), ids([a]));
});

test("non-critical adapter request goes where the adapter is loaded when capacity allows", () => {
  const tree = legacyDecisionTree(seededRng(1));
  const loaded = candidate({ waiting: 1, active: ["a1"], maxActiveAdapters: 2 });
  const other = candidate({ waiting: 1, active: ["a2"], maxActiveAdapters: 2 });
  const req = request({ priority: STANDARD, targetModel: "a1", isAdapter: true });
  assert.deepEqual(ids(tree.filter(req, [loaded, other])), ids([loaded]));
});

test("legacy profile through the scheduler: random pick among the survivors, fallbacks from them", () => {
  const s = new ProfileScheduler({ profiles: [legacyDecisionTreeProfile(seededRng(4))] });
  const a = candidate({ waiting: 0 });
  const b = candidate({ waiting: 0 });
  const far = candidate({ waiting: 40 });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = s.schedule(request({ priority: CRITICAL }), [a, b, far]);
    seen.add(r.endpoints[0]!.endpoint.id);
    assert.ok(r.endpoints.length <= 2 && !r.endpoints.includes(far));
  }
  assert.deepEqual([...seen].sort(), ids([a, b]));
});
