// Prefix groups through the scorer profile's cost model, without timing: the decisions of a burst,
// with no scrape in between and the director's in-flight count raised for each dispatch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultScorerProfiles } from "../../src/scheduling/default-profiles.ts";
import { ExpectedTtftScorer } from "../../src/scheduling/plugins/scorers/expected-ttft-scorer.ts";
import { ProfileScheduler } from "../../src/scheduling/profile-scheduler.ts";
import { seededRng } from "../../src/scheduling/random.ts";
import type { Candidate, SchedulingRequest } from "../../src/scheduling/types.ts";
import { type CandidateSpec, candidate, engineCounters, request } from "./fixtures.ts";

function pool(specs: CandidateSpec[]): Candidate[] {
  return specs.map((s, i) =>
    candidate({ id: `10.8.0.${i}:8000`, numGpuBlocks: 29_205, blockSize: 16, ...s }),
  );
}

function scheduler(seed: number): ProfileScheduler {
  const d = defaultScorerProfiles(seededRng(seed));
  return new ProfileScheduler({ profiles: [d.profile], handler: d.handler, preRequestHooks: d.hooks });
}

/** Schedules each request in turn; returns the endpoint index each went to. */
function dispatch(s: ProfileScheduler, cs: Candidate[], rs: SchedulingRequest[]): number[] {
  return rs.map((r) => {
    const chosen = s.schedule(r, cs).endpoints[0]!;
    s.preRequest(r, chosen);
    (chosen.inFlight as { requests: number }).requests++; // what the director does on forward
    return cs.indexOf(chosen);
  });
}

/** bench:routing's prompts: words of a few letters, one simulator token each. */
const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i % 97}x`).join(" ");

/** Request i of a group: its shared prefix of `prefixWords` words (tag `prefixTag`), then 100 words of its own. */
function groupOf(prefixTag: string, prefixWords: number, tailTag: string): (i: number) => SchedulingRequest {
  const prefix = words(prefixTag, prefixWords);
  return (i) => request({ prefixText: `${prefix} ${words(`${tailTag}${i}-`, 100)}`, maxTokens: 100 });
}

test("a burst of a 4,000-word group stays on the replica that holds its prefix (the match window)", () => {
  for (const seed of [1, 2, 3]) {
    const s = scheduler(seed);
    const cs = pool([{}, {}, {}, {}, {}]);
    const group = groupOf("p", 4000, "u");
    // The ready check: one request of the group, finished long before the burst.
    dispatch(s, cs, [group(0)]);
    const holder = cs.findIndex((c) => c.inFlight.requests === 1);
    for (const c of cs) (c.inFlight as { requests: number }).requests = 0;
    const picks = dispatch(
      s,
      cs,
      Array.from({ length: 16 }, (_, i) => group(i + 1)),
    );
    assert.deepEqual(
      picks.filter((p) => p !== holder),
      [],
      `seed ${seed}: followers left replica ${holder}: ${picks}`,
    );
  }
});

test("estimated tokens (characters ÷ 4) are calibrated to the servers' own prompt tokens per request", () => {
  const ttft = new ExpectedTtftScorer("t");
  // 1,000 five-character words: 1,250 estimated tokens; the servers count 1,000.
  const prompt = (i: number) =>
    request({
      prefixText: Array.from({ length: 1000 }, (_, j) => (i * 1000 + j).toString(36).padStart(4, "z")).join(
        " ",
      ),
      maxTokens: 10,
    });
  assert.equal(prompt(0).promptTokens, 1250);
  const cs = pool([{}, {}]).map((c) => ({
    ...c,
    metrics: { ...c.metrics, counters: engineCounters({ promptTokens: 0 }) },
  }));
  for (let i = 0; i < 10; i++) {
    const r = prompt(i);
    ttft.score(r, cs);
    ttft.preRequest(r, cs[i % 2]!);
  }
  assert.equal(ttft.tokenScale(), 1, "no scrape has shown the servers' count yet");
  // The next scrape: each server prefilled 5 of them, 5,000 prompt tokens.
  const scraped = cs.map((c) => ({
    ...c,
    metrics: {
      ...c.metrics,
      updatedAt: 2,
      counters: engineCounters({
        prefilledRequests: 5,
        promptTokens: 5000,
        computedPromptTokens: 5000,
        prefillSeconds: 0.1,
      }),
    },
  }));
  const next = prompt(99);
  const { uncached } = ttft.estimate(next, scraped);
  assert.ok(Math.abs(ttft.tokenScale() - 0.8) < 1e-9, `scale ${ttft.tokenScale()}`);
  assert.deepEqual(
    uncached.map((u) => Math.round(u)),
    [1000, 1000],
    "nothing cached: the whole prompt, in server tokens",
  );
});

test("a scrape landing inside a group's burst does not send its next requests away: waiting followers count their own tails", () => {
  for (const seed of [1, 2, 3]) {
    const s = scheduler(seed);
    const cs = pool([{}, {}, {}, {}, {}]);
    const group = groupOf("g", 2000, "t");
    const first = dispatch(s, cs, [0, 1, 2, 3, 4, 5, 6].map(group));
    const holder = first[0]!;
    assert.deepEqual(
      first,
      first.map(() => holder),
      `seed ${seed}: the burst's start stays together`,
    );
    // A scrape now: the holder computes the prefix (1 running), its 6 followers wait behind it.
    const h = cs[holder]!;
    Object.assign(h.metrics, { running: 1, waiting: 6, inFlightRequestsAtScrape: 7, updatedAt: 2 });
    for (const c of cs) if (c !== h) Object.assign(c.metrics, { updatedAt: 2 });
    const next = dispatch(s, cs, [7, 8, 9].map(group));
    assert.deepEqual(next, [holder, holder, holder], `seed ${seed}: followers after the scrape: ${next}`);
  }
});
