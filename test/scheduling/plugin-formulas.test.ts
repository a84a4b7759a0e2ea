// Table tests of each plugin's formula.
import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveWaiting } from "../../src/scheduling/effective-load.ts";
import { HasCapacityFilter } from "../../src/scheduling/plugins/filters/has-capacity-filter.ts";
import { LeastKvCacheFilter } from "../../src/scheduling/plugins/filters/least-kv-cache-filter.ts";
import { LeastQueueFilter } from "../../src/scheduling/plugins/filters/least-queue-filter.ts";
import { LoraAffinityFilter } from "../../src/scheduling/plugins/filters/lora-affinity-filter.ts";
import { LowQueueFilter } from "../../src/scheduling/plugins/filters/low-queue-filter.ts";
import { MaxScorePicker } from "../../src/scheduling/plugins/pickers/max-score-picker.ts";
import { RandomPicker } from "../../src/scheduling/plugins/pickers/random-picker.ts";
import { WeightedRandomPicker } from "../../src/scheduling/plugins/pickers/weighted-random-picker.ts";
import { KvCacheUtilizationScorer } from "../../src/scheduling/plugins/scorers/kv-cache-utilization-scorer.ts";
import { LoraAffinityScorer } from "../../src/scheduling/plugins/scorers/lora-affinity-scorer.ts";
import { QueueScorer } from "../../src/scheduling/plugins/scorers/queue-scorer.ts";
import { RunningRequestsSizeScorer } from "../../src/scheduling/plugins/scorers/running-requests-size-scorer.ts";
import {
  SessionAffinityScorer,
  sessionTokenFor,
} from "../../src/scheduling/plugins/scorers/session-affinity-scorer.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { candidate, request } from "./fixtures.ts";

const ids = (cs: readonly Candidate[]) => cs.map((c) => c.endpoint.id);

test("queue-scorer: (maxQ − q)/(maxQ − minQ), all equal → 1", () => {
  const table: [number[], number[]][] = [
    [
      [0, 5, 10],
      [1, 0.5, 0],
    ],
    [
      [3, 3],
      [1, 1],
    ],
    [[7], [1]],
    [
      [2, 0],
      [0, 1],
    ],
  ];
  for (const [waiting, expected] of table) {
    const cs = waiting.map((w) => candidate({ waiting: w }));
    assert.deepEqual(new QueueScorer().score(request(), cs), expected, `waiting ${waiting}`);
  }
});

test("queue-scorer counts requests sent since the last scrape (in-flight merge)", () => {
  // A scraped 0 waiting but the gateway sent it 4 requests since the scrape; B scraped 2, none sent.
  const a = candidate({ waiting: 0, inFlightRequests: 5, inFlightRequestsAtScrape: 1 });
  const b = candidate({ waiting: 2, inFlightRequests: 1, inFlightRequestsAtScrape: 1 });
  assert.equal(effectiveWaiting(a), 4);
  assert.deepEqual(new QueueScorer().score(request(), [a, b]), [0, 1]);
  // Requests that finished since the scrape do not go negative.
  assert.equal(
    effectiveWaiting(candidate({ waiting: 1, inFlightRequests: 0, inFlightRequestsAtScrape: 3 })),
    1,
  );
});

test("kv-cache-utilization-scorer: 1 − scraped kv", () => {
  const table: [number, number][] = [
    [0, 1],
    [0.25, 0.75],
    [1, 0],
  ];
  for (const [kv, expected] of table) {
    assert.deepEqual(new KvCacheUtilizationScorer().score(request(), [candidate({ kvCacheUsage: kv })]), [
      expected,
    ]);
  }
  // In-flight tokens do not count (shared prefixes share KV blocks): the scraped value is used.
  const c = candidate({ kvCacheUsage: 0.5, blockSize: 16, numGpuBlocks: 100, inFlightTokens: 400 });
  assert.deepEqual(new KvCacheUtilizationScorer().score(request(), [c]), [0.5]);
});

test("running-requests-size-scorer: min-max over running", () => {
  const cs = [10, 20, 30].map((r) => candidate({ running: r }));
  assert.deepEqual(new RunningRequestsSizeScorer().score(request(), cs), [1, 0.5, 0]);
});

test("lora-affinity-scorer: 1.0 running / 0.8 free slot / 0.6 waiting / 0; base model neutral", () => {
  const adapterReq = request({ targetModel: "a1", isAdapter: true });
  const cs = [
    candidate({ active: ["a1"], maxActiveAdapters: 1 }),
    candidate({ active: ["a2"], maxActiveAdapters: 2 }),
    candidate({ active: ["a2"], waitingLora: ["a1"], maxActiveAdapters: 2 }),
    candidate({ active: ["a2", "a3"], maxActiveAdapters: 2 }),
    candidate({ maxActiveAdapters: 0 }),
  ];
  assert.deepEqual(new LoraAffinityScorer().score(adapterReq, cs), [1, 0.8, 0.6, 0, 0]);
  assert.deepEqual(new LoraAffinityScorer().score(request(), cs), [1, 1, 1, 1, 1]);
});

test("session-affinity-scorer: 1 on the endpoint named by the token, 0 elsewhere and without one", () => {
  const cs = [candidate(), candidate()];
  const s = new SessionAffinityScorer();
  const token = sessionTokenFor(cs[1]!.endpoint.id);
  assert.deepEqual(s.score(request({ headers: { "x-session-token": token } }), cs), [0, 1]);
  assert.deepEqual(s.score(request(), cs), [0, 0]);
  const custom = new SessionAffinityScorer("s", "X-My-Session");
  assert.deepEqual(custom.score(request({ headers: { "x-my-session": token } }), cs), [0, 1]);
});

test("low-queue-filter: waiting < threshold (128)", () => {
  const cs = [127, 128, 0].map((w) => candidate({ waiting: w }));
  assert.deepEqual(ids(new LowQueueFilter().filter(request(), cs)), ids([cs[0]!, cs[2]!]));
});

test("has-capacity-filter: waiting ≤ 5 and kv ≤ 0.8", () => {
  const cs = [
    candidate({ waiting: 5, kvCacheUsage: 0.8 }),
    candidate({ waiting: 6, kvCacheUsage: 0 }),
    candidate({ waiting: 0, kvCacheUsage: 0.81 }),
  ];
  assert.deepEqual(ids(new HasCapacityFilter().filter(request(), cs)), ids([cs[0]!]));
});

test("least-queue-filter keeps min + ⌊(max − min)/N⌋; least-kv-cache-filter min + (max − min)/N", () => {
  const q = [0, 3, 4, 12].map((w) => candidate({ waiting: w }));
  // limit = 0 + floor(12 / 4) = 3
  assert.deepEqual(ids(new LeastQueueFilter().filter(request(), q)), ids([q[0]!, q[1]!]));
  const kv = [0.2, 0.35, 0.5, 1].map((k) => candidate({ kvCacheUsage: k }));
  // limit = 0.2 + 0.8 / 4 = 0.4
  assert.deepEqual(ids(new LeastKvCacheFilter().filter(request(), kv)), ids([kv[0]!, kv[1]!]));
});

test("lora-affinity-filter: affinity group with probability threshold, else free slots", () => {
  const loaded = candidate({ active: ["a1"], maxActiveAdapters: 2 });
  const queued = candidate({ waitingLora: ["a1"], maxActiveAdapters: 2 });
  const free = candidate({ active: ["a2"], maxActiveAdapters: 2 });
  const full = candidate({ active: ["a2", "a3"], maxActiveAdapters: 2 });
  const cs = [loaded, queued, free, full];
  const req = request({ targetModel: "a1", isAdapter: true });
  assert.deepEqual(ids(new LoraAffinityFilter(() => 0.5).filter(req, cs)), ids([loaded, queued]));
  assert.deepEqual(ids(new LoraAffinityFilter(() => 0.9995).filter(req, cs)), ids([free]));
  assert.deepEqual(ids(new LoraAffinityFilter(() => 0.5).filter(req, [free, full])), ids([free]));
  assert.deepEqual(ids(new LoraAffinityFilter(() => 0.5).filter(req, [full])), []);
  assert.deepEqual(
    ids(new LoraAffinityFilter(() => 0.5).filter(request(), cs)),
    ids(cs),
    "base model passes",
  );
  // Over many draws the affinity group wins about 99.9% of the time.
  const rng = seededRng(3);
  const f = new LoraAffinityFilter(rng);
  let affinity = 0;
  for (let i = 0; i < 10_000; i++) if (f.filter(req, cs)[0] === loaded) affinity++;
  assert.ok(affinity > 9_950 && affinity < 10_000, `affinity ${affinity}`);
});

test("max-score-picker: highest score; ties spread at random; fallbacks in score order", () => {
  const cs = [candidate(), candidate(), candidate(), candidate()];
  const scored = [0.5, 2, 2, 1].map((score, i) => ({ candidate: cs[i]!, score }));
  const picker = new MaxScorePicker(seededRng(1));
  const wins = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const [top] = picker.pick(scored);
    wins.set(top!.endpoint.id, (wins.get(top!.endpoint.id) ?? 0) + 1);
  }
  assert.deepEqual([...wins.keys()].sort(), ids([cs[1]!, cs[2]!]).sort());
  assert.ok(wins.get(cs[1]!.endpoint.id)! > 400 && wins.get(cs[2]!.endpoint.id)! > 400);
  const three = new MaxScorePicker(seededRng(2), "p", 3).pick(scored);
  assert.deepEqual(new Set(ids(three.slice(0, 2))), new Set(ids([cs[1]!, cs[2]!])));
  assert.equal(three[2], cs[3]);
});

test("random-picker ignores scores; weighted-random-picker follows them", () => {
  const cs = [candidate(), candidate()];
  const scored = [
    { candidate: cs[0]!, score: 3 },
    { candidate: cs[1]!, score: 1 },
  ];
  const count = (p: { pick: typeof RandomPicker.prototype.pick }) => {
    let first = 0;
    for (let i = 0; i < 4000; i++) if (p.pick(scored)[0] === cs[0]) first++;
    return first / 4000;
  };
  const uniform = count(new RandomPicker(seededRng(5)));
  assert.ok(uniform > 0.45 && uniform < 0.55, `random ${uniform}`);
  const weighted = count(new WeightedRandomPicker(seededRng(5)));
  assert.ok(weighted > 0.7 && weighted < 0.8, `weighted ${weighted} (expected 0.75)`);
  const zeros = scored.map((s) => ({ ...s, score: 0 }));
  const z = new WeightedRandomPicker(seededRng(6));
  let firstZero = 0;
  for (let i = 0; i < 4000; i++) if (z.pick(zeros)[0] === cs[0]) firstZero++;
  assert.ok(firstZero / 4000 > 0.45 && firstZero / 4000 < 0.55, "all-zero scores → uniform");
});
