// The scheduler around profiles: stale avoidance, explanations, plugin timing, in-flight merge.
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultScorerProfiles } from "../../src/scheduling/default-profiles.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import { type Candidate, MAX_EXPLAINED_CANDIDATES } from "../../src/scheduling/types.ts";
import { candidate, request } from "./fixtures.ts";

function scorerScheduler(seed = 1, explain = false) {
  const { profile, loraProfile, handler, hooks } = defaultScorerProfiles(seededRng(seed));
  return new ProfileScheduler({
    profiles: [profile, loraProfile],
    handler,
    preRequestHooks: hooks,
    explain,
  });
}

test("a stale endpoint is avoided while a fresh one exists; all stale → all kept", () => {
  const s = scorerScheduler();
  const staleIdle = candidate({ waiting: 0, stale: true });
  const freshBusy = candidate({ waiting: 10, kvCacheUsage: 0.7 });
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(
      s.schedule(request(), [staleIdle, freshBusy]).endpoints.map((c) => c.endpoint.id),
      [freshBusy.endpoint.id],
    );
  }
  const bothStale = [candidate({ stale: true }), candidate({ stale: true })];
  assert.equal(s.schedule(request(), bothStale).endpoints.length, 2);
});

test("explanation: chosen and runner-up with each scorer's score and the weighted total", () => {
  const s = scorerScheduler(1, true);
  const idle = candidate({ waiting: 0, kvCacheUsage: 0.2 });
  const busy = candidate({ waiting: 8, kvCacheUsage: 0.6 });
  const gone = candidate({ stale: true });
  const r = s.schedule(request({ targetModel: "a1", isAdapter: true }), [busy, idle, gone]);
  const e = r.explanation!;
  assert.equal(e.profile, "default-lora");
  assert.equal(e.chosen.endpoint, idle.endpoint.id);
  assert.deepEqual(e.chosen.scores, {
    "expected-ttft-scorer": 1,
    "prefix-cache-scorer": 0,
    "lora-affinity-scorer": 0,
  });
  assert.equal(e.chosen.total, 1 * 1 + 0 * 0 + 1 * 0);
  assert.equal(e.runnerUp?.endpoint, busy.endpoint.id);
  // 8 waiting × 1,000 tokens × 20 µs = 160 ms expected, against 0 ms (+1 ms each).
  assert.ok(Math.abs(e.runnerUp!.scores["expected-ttft-scorer"]! - 1 / 161) < 1e-9);
  assert.equal(e.filteredOut, 1, "the stale endpoint counts as filtered out");
  assert.equal(scorerScheduler(1, false).schedule(request(), [idle]).explanation, undefined);
  // Base-model requests run the profile without the LoRA scorer.
  assert.equal(s.schedule(request(), [busy, idle]).explanation?.profile, "default");
});

test("explanation: every other scored candidate best first, capped, the rest counted; a switch asked per decision", () => {
  const { profile } = defaultScorerProfiles(seededRng(1));
  let on = false;
  const s = new ProfileScheduler({ profiles: [profile], explain: () => on });
  const pool = Array.from({ length: 20 }, (_, i) => candidate({ waiting: i, kvCacheUsage: 0.02 * i }));
  assert.equal(s.schedule(request(), pool).explanation, undefined, "off: nothing built");
  on = true;
  const e = s.schedule(request(), pool).explanation!;
  const listed = [e.chosen, e.runnerUp!, ...e.others!];
  assert.equal(listed.length, MAX_EXPLAINED_CANDIDATES);
  assert.equal(e.omitted, 20 - MAX_EXPLAINED_CANDIDATES);
  assert.equal(e.chosen.endpoint, pool[0]!.endpoint.id);
  for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1]!.total >= listed[i]!.total, "best first");
  assert.deepEqual(
    listed.map((c) => c.endpoint),
    pool.slice(0, MAX_EXPLAINED_CANDIDATES).map((c) => c.endpoint.id),
  );
  assert.deepEqual(Object.keys(e.others![0]!.scores).sort(), Object.keys(e.chosen.scores).sort());
  const two = s.schedule(request(), pool.slice(0, 2)).explanation!;
  assert.equal(two.others, undefined);
  assert.equal(two.omitted, undefined);
});

test("every plugin call is timed through the observer", () => {
  const { profile } = defaultScorerProfiles(seededRng(1));
  const seen: string[] = [];
  const s = new ProfileScheduler({
    profiles: [profile],
    observe: (point, p) => seen.push(`${point}:${p.type}`),
  });
  s.schedule(request(), [candidate(), candidate()]);
  assert.deepEqual(seen, [
    "scorer:expected-ttft-scorer",
    "scorer:prefix-cache-scorer",
    "picker:max-score-picker",
  ]);
});

test("in-flight merge: a burst between two scrapes spreads instead of piling onto one endpoint", () => {
  const s = scorerScheduler(7);
  // Three identical idle endpoints; the scrape will not run during the burst.
  const cs: Candidate[] = [candidate(), candidate(), candidate()];
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const req = request({ prefixText: `distinct prompt ${i} `.repeat(20) });
    const chosen = s.schedule(req, cs).endpoints[0]!;
    s.preRequest(req, chosen);
    (chosen.inFlight as { requests: number }).requests++; // what the director does when it sends
    counts.set(chosen.endpoint.id, (counts.get(chosen.endpoint.id) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()].sort(), [10, 10, 10]);
});

test("without the merge (no in-flight counting) the same burst would pile onto one endpoint", () => {
  const s = scorerScheduler(7);
  const cs: Candidate[] = [candidate(), candidate(), candidate()];
  const shared = "same system prompt ".repeat(40);
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const req = request({ prefixText: shared });
    const chosen = s.schedule(req, cs).endpoints[0]!;
    s.preRequest(req, chosen);
    counts.set(chosen.endpoint.id, (counts.get(chosen.endpoint.id) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()], [30], "prefix affinity alone sends everything to one endpoint");
});

test("fallbacks: the scorer profile returns target + 2 distinct fallbacks", () => {
  const s = scorerScheduler();
  const cs = [
    candidate({ waiting: 3 }),
    candidate({ waiting: 0 }),
    candidate({ waiting: 1 }),
    candidate({ waiting: 9 }),
  ];
  const r = s.schedule(request(), cs);
  assert.deepEqual(
    r.endpoints.map((c) => c.endpoint.id),
    [cs[1]!, cs[2]!, cs[0]!].map((c) => c.endpoint.id),
  );
});
