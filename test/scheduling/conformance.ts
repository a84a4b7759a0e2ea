// The shared conformance suite: every filter, scorer and picker runs it (hono style).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Candidate, Filter, Picker, SchedulingRequest, Scorer } from "../../src/scheduling/types.ts";
import { arbCandidates, arbRequest } from "./fixtures.ts";

/** Builds a fresh plugin from a seed (same seed → same random choices). */
export type Make<P> = (seed: number) => P;

const RUNS = { numRuns: 150 };

function ids(cs: readonly Candidate[]): string[] {
  return cs.map((c) => c.endpoint.id);
}

function assertSubsetNoDuplicates(out: readonly Candidate[], input: readonly Candidate[]): void {
  const allowed = new Set(input);
  const seen = new Set<Candidate>();
  for (const c of out) {
    assert.ok(allowed.has(c), `invented endpoint ${c.endpoint.id}`);
    assert.ok(!seen.has(c), `duplicate endpoint ${c.endpoint.id}`);
    seen.add(c);
  }
}

export function filterConformance(label: string, make: Make<Filter>): void {
  test(`${label} [filter conformance]: keeps a subset, never invents or duplicates`, () => {
    fc.assert(
      fc.property(arbCandidates, arbRequest, fc.nat(), (cands, req, seed) => {
        const out = make(seed).filter(req, cands);
        assertSubsetNoDuplicates(out, cands);
      }),
      RUNS,
    );
  });
  test(`${label} [filter conformance]: empty input gives empty output`, () => {
    assert.deepEqual(make(1).filter(arbitraryRequest(), []), []);
  });
  test(`${label} [filter conformance]: deterministic under a fixed seed`, () => {
    fc.assert(
      fc.property(arbCandidates, arbRequest, fc.nat(), (cands, req, seed) => {
        assert.deepEqual(ids(make(seed).filter(req, cands)), ids(make(seed).filter(req, cands)));
      }),
      RUNS,
    );
  });
}

export function scorerConformance(label: string, make: Make<Scorer>): void {
  test(`${label} [scorer conformance]: one score per candidate, each in [0, 1]`, () => {
    fc.assert(
      fc.property(arbCandidates, arbRequest, fc.nat(), (cands, req, seed) => {
        const scores = make(seed).score(req, cands);
        assert.equal(scores.length, cands.length);
        for (const s of scores) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `score ${s} out of [0, 1]`);
      }),
      RUNS,
    );
  });
  test(`${label} [scorer conformance]: empty input gives no scores`, () => {
    assert.deepEqual(make(1).score(arbitraryRequest(), []), []);
  });
  test(`${label} [scorer conformance]: deterministic under a fixed seed, input untouched`, () => {
    fc.assert(
      fc.property(arbCandidates, arbRequest, fc.nat(), (cands, req, seed) => {
        const before = ids(cands);
        assert.deepEqual(make(seed).score(req, cands), make(seed).score(req, cands));
        assert.deepEqual(ids(cands), before);
      }),
      RUNS,
    );
  });
}

export function pickerConformance(label: string, make: Make<Picker>, maxEndpoints: number): void {
  const arbScored = arbCandidates.chain((cands) =>
    fc
      .array(fc.double({ min: 0, max: 10, noNaN: true }), {
        minLength: cands.length,
        maxLength: cands.length,
      })
      .map((scores) => cands.map((candidate, i) => ({ candidate, score: scores[i]! }))),
  );
  test(`${label} [picker conformance]: target + fallbacks are distinct input candidates, ≤ maxNumOfEndpoints`, () => {
    fc.assert(
      fc.property(arbScored, fc.nat(), (scored, seed) => {
        const out = make(seed).pick(scored);
        assertSubsetNoDuplicates(
          out,
          scored.map((s) => s.candidate),
        );
        assert.equal(out.length, Math.min(maxEndpoints, scored.length));
      }),
      RUNS,
    );
  });
  test(`${label} [picker conformance]: empty input picks nothing`, () => {
    assert.deepEqual(make(1).pick([]), []);
  });
  test(`${label} [picker conformance]: deterministic under a fixed seed`, () => {
    fc.assert(
      fc.property(arbScored, fc.nat(), (scored, seed) => {
        assert.deepEqual(ids(make(seed).pick(scored)), ids(make(seed).pick(scored)));
      }),
      RUNS,
    );
  });
}

function arbitraryRequest(): SchedulingRequest {
  return fc.sample(arbRequest, { numRuns: 1, seed: 7 })[0]!;
}
