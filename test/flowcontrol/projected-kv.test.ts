/**
 * Projected KV: a request's mean footprint (prompt + half its expected output, the output learned
 * from the endpoint's finished requests and capped by max_tokens) and the pool's projected use.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectedKvTokens, projectedKvUse } from "../../src/flowcontrol/saturation/projected-kv.ts";
import type { EngineCounters } from "../../src/modelserver/endpoint-metrics.ts";
import { engineCounters } from "../scheduling/fixtures.ts";
import { candidate } from "./helpers.ts";

/** Counters of an endpoint that finished `count` requests with `tokens` output tokens in all. */
function finished(tokens: number, count: number): EngineCounters {
  return engineCounters({ generationTokens: tokens, finishedRequests: count });
}

test("a request's KV footprint: prompt + half of min(max_tokens, the endpoint's mean output)", () => {
  assert.equal(expectedKvTokens(400, 300, undefined), 550, "nothing learned: max_tokens");
  assert.equal(expectedKvTokens(400, 300, finished(0, 0)), 550, "nothing finished yet: max_tokens");
  assert.equal(expectedKvTokens(400, 4000, finished(2000, 10)), 500, "mean output 200 under max_tokens 4000");
  assert.equal(expectedKvTokens(400, 100, finished(2000, 10)), 450, "max_tokens 100 under the mean 200");
  assert.equal(expectedKvTokens(400, undefined, finished(2000, 10)), 500, "no max_tokens: the mean");
  assert.equal(expectedKvTokens(400, undefined, undefined), 400, "neither: the prompt");
});

test("the pool's projected KV use: in-flight footprints over the KV of the endpoints that report it", () => {
  const a = candidate("a:1", { numGpuBlocks: 100, blockSize: 16 });
  const b = candidate("b:1", { numGpuBlocks: 300, blockSize: 16 });
  const unknown = candidate("c:1");
  a.inFlight.kvTokens = 1600;
  b.inFlight.kvTokens = 3200;
  unknown.inFlight.kvTokens = 50_000;
  assert.equal(projectedKvUse([a, b, unknown]), (1600 + 3200) / (400 * 16));
  assert.equal(projectedKvUse([unknown]), undefined);
  assert.equal(projectedKvUse([]), undefined);
});
