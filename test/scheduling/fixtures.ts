// Builders of candidates and requests for scheduling tests.
import fc from "fast-check";
import {
  type EndpointMetrics,
  type EngineCounters,
  emptyMetrics,
} from "../../src/modelserver/endpoint-metrics.ts";
import type { Candidate, SchedulingRequest } from "../../src/scheduling/types.ts";

export interface CandidateSpec extends Partial<Omit<EndpointMetrics, "activeAdapters" | "waitingAdapters">> {
  id?: string;
  active?: string[];
  waitingLora?: string[];
  inFlightRequests?: number;
  inFlightTokens?: number;
  stale?: boolean;
}

let counter = 0;

/** A candidate with the given load; metrics default to a fresh, idle endpoint. */
export function candidate(spec: CandidateSpec = {}): Candidate {
  const id = spec.id ?? `10.0.0.${++counter}:8000`;
  const [host, port] = id.split(":");
  const { active, waitingLora, inFlightRequests, inFlightTokens, stale, id: _id, ...rest } = spec;
  const metrics: EndpointMetrics = {
    ...emptyMetrics(),
    updatedAt: 1,
    inFlightRequestsAtScrape: 0,
    ...rest,
    activeAdapters: new Set(active ?? []),
    waitingAdapters: new Set(waitingLora ?? []),
  };
  return {
    endpoint: { id, host: host!, port: Number(port), labels: {} },
    metrics,
    inFlight: { requests: inFlightRequests ?? 0, tokens: inFlightTokens ?? 0, kvTokens: 0 },
    stale: stale ?? false,
  };
}

/** A request; defaults: base model, Standard priority, empty prompt. */
export function request(spec: Partial<SchedulingRequest> = {}): SchedulingRequest {
  return {
    requestId: spec.requestId ?? `r${++counter}`,
    targetModel: spec.targetModel ?? "base",
    isAdapter: spec.isAdapter ?? false,
    priority: spec.priority ?? 0,
    prefixText: spec.prefixText ?? "",
    promptTokens: spec.promptTokens ?? Math.ceil((spec.prefixText ?? "").length / 4),
    ...(spec.maxTokens !== undefined ? { maxTokens: spec.maxTokens } : {}),
    headers: spec.headers ?? {},
  };
}

const ADAPTERS = ["a1", "a2", "a3"];

/** Arbitrary candidate lists (distinct endpoint ids) covering the load space. */
export const arbCandidates = fc
  .array(
    fc.record({
      waiting: fc.nat(300),
      running: fc.nat(300),
      kvCacheUsage: fc.double({ min: 0, max: 1, noNaN: true }),
      active: fc.subarray(ADAPTERS),
      waitingLora: fc.subarray(ADAPTERS),
      maxActiveAdapters: fc.nat(4),
      blockSize: fc.option(fc.constantFrom(16, 32), { nil: undefined }),
      numGpuBlocks: fc.option(fc.integer({ min: 1, max: 10000 }), { nil: undefined }),
      inFlightRequests: fc.nat(20),
      inFlightTokens: fc.nat(100000),
      inFlightRequestsAtScrape: fc.nat(20),
      stale: fc.boolean(),
    }),
    { maxLength: 12 },
  )
  .map((specs) =>
    specs.map((s, i) => {
      const { blockSize, numGpuBlocks, ...rest } = s;
      return candidate({
        ...rest,
        ...(blockSize === undefined ? {} : { blockSize }),
        ...(numGpuBlocks === undefined ? {} : { numGpuBlocks }),
        id: `10.1.0.${i}:8000`,
      });
    }),
  );

/** Arbitrary requests: base or adapter, any priority, short prompts over a small alphabet (so prefixes repeat). */
export const arbRequest = fc
  .record({
    targetModel: fc.constantFrom("base", ...ADAPTERS),
    priority: fc.integer({ min: -1, max: 1 }),
    prefixText: fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 300 }),
    session: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  })
  .map((r) =>
    request({
      targetModel: r.targetModel,
      isAdapter: r.targetModel !== "base",
      priority: r.priority,
      prefixText: r.prefixText,
      headers:
        r.session === undefined
          ? {}
          : { "x-session-token": Buffer.from(`10.1.0.${r.session}:8000`).toString("base64url") },
    }),
  );

/** Cumulative engine counters: zeros, overridden by `c`. */
export function engineCounters(c: Partial<EngineCounters> = {}): EngineCounters {
  return {
    prefillSeconds: 0,
    prefilledRequests: 0,
    computedPromptTokens: 0,
    tpotSeconds: 0,
    tpotCount: 0,
    generationTokens: 0,
    finishedRequests: 0,
    ...c,
  };
}
