/**
 * expected-ttft-scorer: a cost model instead of fixed weights. For each candidate it estimates the
 * time to first token the request would see there,
 *
 *   cost ≈ prefill s/token × (1 + recomputePenalty × (1 + queue)) × prompt tokens not cached there
 *          + queue wait + decode s/running × running requests,
 *   queue wait = max(prefill s/token × prompt tokens queued ahead,
 *                    (waiting + sent since the scrape) ÷ admissions per second, when waiting),
 *
 * which is the request's expected wait plus, for every token it makes the server compute, what that
 * work and the cache it evicts cost the others: the eviction (once) and the wait of each request
 * queued there (queue = waiting + sent since the scrape). recomputePenalty (default 1) scales it: a
 * group that would gain a few ms by moving stays where its prefix is cached instead of being copied
 * onto every server and thrashing their caches, the more so the busier the pool.
 *
 * with the cached tokens from a prefix scorer (approximate or precise: PrefixMatchSource), the
 * queue ahead = the uncached tokens of the gateway's latest dispatches there, as many as the scrape
 * found waiting plus those sent since that scrape (so a burst is seen before the next scrape, and
 * consecutive picks do not herd onto the endpoint an old scrape shows idle; waiting requests the
 * gateway did not send count the computed tokens per request), and the costs learned
 * from the scraped engine counters (engine-costs.ts: unit costs over the pool, tokens per request
 * and admissions per endpoint). A prefix source that only estimates tokens (characters ÷ 4) is
 * calibrated to the servers' own count: its tokens × (the servers' prompt tokens per request ÷ the
 * estimate's, over the requests sent), so the uncached term is in the same tokens as the learned
 * queue and per-token cost (the simulator's one-token words are ~1.6 estimated tokens each, and
 * uncached work weighed 1.6× too much against the queue). Score = (lowest TTFT + 1 ms) ÷
 * (this TTFT + 1 ms): 1 for the best, smaller the longer the wait. It is a PreRequestHook (records each
 * dispatch's uncached tokens) and an EndpointRemovedListener.
 */
import { z } from "zod";
import { FieldIssueError } from "../../../config/field-issue.ts";
import type { EndpointRemovedListener } from "../../../plugins/capabilities.ts";
import { definePlugin } from "../../../plugins/registry.ts";
import { effectiveRunning, sentSinceScrape } from "../../effective-load.ts";
import { DecayedRatio, EngineCostLearner, type EngineCosts } from "../../engine-costs.ts";
import { isPrefixMatchSource, type PrefixMatchSource } from "../../prefix-match.ts";
import type { Candidate, PreRequestHook, RequestPreparer, SchedulingRequest, Scorer } from "../../types.ts";
import { PrefixCacheScorer } from "./prefix-cache-scorer.ts";

/** Added to every estimate before the ratio, so estimates of 0 (an idle pool) still order the rest. */
const SCORE_EPSILON_S = 1e-3;

/** Dispatches remembered per endpoint (more than are ever sent between two scrapes). */
const DISPATCH_LOG = 1024;

/** Share of the old evidence each dispatch decays away in the estimated tokens per request. */
const ESTIMATE_ALPHA = 0.05;
/** The calibration of estimated tokens stays within these factors. */
const MIN_TOKEN_SCALE = 0.25;
const MAX_TOKEN_SCALE = 4;

/** Extra weight of each uncached token (see the module comment). */
export const DEFAULT_RECOMPUTE_PENALTY = 1;

/** Before any scrape taught otherwise: roughly an 8B model on one H100 (docs/simulator.md). */
export const DEFAULT_ENGINE_COSTS: EngineCosts = {
  prefillSecondsPerToken: 20e-6,
  computedTokensPerRequest: 1000,
  decodeSecondsPerRunning: 100e-6,
  admissionsPerSecond: 0,
};

/** Uncached prompt tokens of the latest dispatches to one endpoint (a ring). */
class DispatchLog {
  readonly #tokens = new Float64Array(DISPATCH_LOG);
  #next = 0;
  #count = 0;

  push(tokens: number): void {
    this.#tokens[this.#next] = tokens;
    this.#next = (this.#next + 1) % DISPATCH_LOG;
    this.#count = Math.min(this.#count + 1, DISPATCH_LOG);
  }

  /** Entries held (at most DISPATCH_LOG). */
  get held(): number {
    return this.#count;
  }

  /** Σ of the latest n entries (n clamped to what is held). */
  latest(n: number): number {
    let sum = 0;
    const k = Math.min(n, this.#count);
    for (let i = 1; i <= k; i++) sum += this.#tokens[(this.#next - i + DISPATCH_LOG) % DISPATCH_LOG]!;
    return sum;
  }
}

export class ExpectedTtftScorer implements Scorer, RequestPreparer, PreRequestHook, EndpointRemovedListener {
  readonly type = "expected-ttft-scorer";
  readonly name: string;
  readonly prefix: PrefixMatchSource;
  readonly learner: EngineCostLearner;
  readonly recomputePenalty: number;
  /** Whether this scorer owns `prefix` (then it feeds it decisions; else the profile does). */
  readonly #ownsPrefix: boolean;
  readonly #dispatches = new Map<string, DispatchLog>();
  /** Estimated prompt tokens per request sent, when the prefix source estimates (see tokenScale). */
  readonly #estimatedPerRequest = new DecayedRatio();
  /** The last estimate, keyed by the request object (request ids are the client's and may repeat). */
  #last:
    | {
        request: SchedulingRequest;
        candidates: readonly Candidate[];
        uncached: number[];
        estimated: boolean;
      }
    | undefined;

  /** `prefix`: a prefix scorer of the same profile; none = an approximate one of its own. */
  constructor(
    name = "expected-ttft-scorer",
    prefix?: PrefixMatchSource,
    recomputePenalty = DEFAULT_RECOMPUTE_PENALTY,
    defaults = DEFAULT_ENGINE_COSTS,
  ) {
    this.name = name;
    this.recomputePenalty = recomputePenalty;
    this.#ownsPrefix = prefix === undefined;
    this.prefix = prefix ?? new PrefixCacheScorer(`${name}/prefix`);
    this.learner = new EngineCostLearner(defaults);
  }

  /** The cost in seconds per candidate (expected TTFT + recompute penalty), and its uncached prompt tokens. */
  estimate(
    request: SchedulingRequest,
    candidates: readonly Candidate[],
  ): { ttft: number[]; uncached: number[] } {
    const match = this.prefix.prefixMatch(request, candidates);
    const n = candidates.length;
    for (let i = 0; i < n; i++) this.learner.observe(candidates[i]!);
    const estimated = match.estimated === true;
    const scale = estimated ? this.tokenScale() : 1;
    const ttft = new Array<number>(n);
    const uncached = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const c = candidates[i]!;
      const u = scale * Math.max(0, match.promptTokens - match.cachedTokens[i]!);
      uncached[i] = u;
      const k = this.learner.costs(c.endpoint.id);
      const sent = sentSinceScrape(c);
      const waiting = c.metrics.waiting;
      // Every request queued behind it there also waits for its uncached prefill.
      const own = (1 + this.recomputePenalty * (1 + waiting + sent)) * u;
      // A queue held back by something else than prefill (KV blocks, max_num_seqs) clears at the
      // engine's admission rate; otherwise by the prefill work ahead.
      const byTokens = k.prefillSecondsPerToken * this.#queuedTokens(c.endpoint.id, waiting + sent, k);
      const byAdmissions =
        waiting > 0 && k.admissionsPerSecond > 0 ? (waiting + sent) / k.admissionsPerSecond : 0;
      ttft[i] =
        k.prefillSecondsPerToken * own +
        Math.max(byTokens, byAdmissions) +
        k.decodeSecondsPerRunning * effectiveRunning(c);
    }
    this.#last = { request, candidates, uncached, estimated };
    return { ttft, uncached };
  }

  /**
   * Uncached prompt tokens of the `queued` requests at an endpoint (the waiting ones its scrape
   * found, then those sent since): an engine admits in arrival order, so they are the gateway's
   * latest dispatches there, whose uncached tokens the dispatch log holds — a group's followers
   * queued behind its first request count their short tails, not the pool's mean computed tokens
   * (which made a replica look busiest while it computed a group's prefix, and a scrape landing
   * inside a burst sent the group's next requests away). What the log does not hold (another
   * client's requests) counts the learned computed tokens per request.
   */
  #queuedTokens(endpointId: string, queued: number, k: EngineCosts): number {
    if (queued <= 0) return 0;
    const log = this.#dispatches.get(endpointId);
    const logged = log === undefined ? 0 : Math.min(queued, log.held);
    return (log?.latest(logged) ?? 0) + (queued - logged) * k.computedTokensPerRequest;
  }

  /**
   * Server tokens per estimated token: the servers' prompt tokens per request (scraped) ÷ the
   * estimated prompt tokens per request sent; 1 until both are known.
   */
  tokenScale(): number {
    const real = this.learner.promptTokensPerRequest();
    const estimate = this.#estimatedPerRequest.value;
    if (real === undefined || estimate === undefined || !(real > 0 && estimate > 0)) return 1;
    return Math.min(MAX_TOKEN_SCALE, Math.max(MIN_TOKEN_SCALE, real / estimate));
  }

  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    const { ttft } = this.estimate(request, candidates);
    const n = ttft.length;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) best = Math.min(best, ttft[i]!);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = (best + SCORE_EPSILON_S) / (ttft[i]! + SCORE_EPSILON_S);
    return out;
  }

  /** Prepares the request for its own prefix scorer (a profile's prefix scorer is prepared by the profile). */
  prepareRequest(request: SchedulingRequest): void {
    if (this.#ownsPrefix) (this.prefix as PrefixCacheScorer).prepareRequest(request);
  }

  preRequest(request: SchedulingRequest, chosen: Candidate): void {
    const last = this.#last;
    const i = last?.request === request ? last.candidates.indexOf(chosen) : -1;
    const uncached = i >= 0 ? last!.uncached[i]! : this.estimate(request, [chosen]).uncached[0]!;
    if (this.#last?.estimated) this.#estimatedPerRequest.add(request.promptTokens, 1, ESTIMATE_ALPHA);
    let log = this.#dispatches.get(chosen.endpoint.id);
    if (log === undefined) {
      log = new DispatchLog();
      this.#dispatches.set(chosen.endpoint.id, log);
    }
    log.push(uncached);
    if (this.#ownsPrefix) (this.prefix as PrefixCacheScorer).preRequest(request, chosen);
  }

  endpointRemoved(endpointId: string): void {
    this.#dispatches.delete(endpointId);
    this.learner.remove(endpointId);
    if (this.#ownsPrefix) (this.prefix as PrefixCacheScorer).endpointRemoved(endpointId);
  }
}

export const expectedTtftScorerPlugin = definePlugin({
  type: "expected-ttft-scorer",
  kind: "scorer",
  description:
    "prefers the endpoint with the lowest expected time to first token (uncached prefill, queue ahead, decode load)",
  parameters: z.strictObject({
    /** A declared prefix-cache-scorer or precise-prefix-cache-scorer; none = an approximate one of its own. */
    prefixScorer: z.string().min(1).optional(),
    recomputePenalty: z.number().min(0).max(100).default(DEFAULT_RECOMPUTE_PENALTY),
  }),
  create: (name, p, ctx) => {
    if (p.prefixScorer === undefined) return new ExpectedTtftScorer(name, undefined, p.recomputePenalty);
    const declared = ctx.lookup(p.prefixScorer);
    if (declared === undefined || !isPrefixMatchSource(declared.plugin)) {
      const message =
        declared === undefined
          ? `no plugin named "${p.prefixScorer}" is declared before this one (declare a prefix-cache-scorer or precise-prefix-cache-scorer earlier in plugins)`
          : `"${p.prefixScorer}" is a ${declared.plugin.type}, not a prefix-cache-scorer or precise-prefix-cache-scorer`;
      throw new FieldIssueError([{ path: ["parameters", "prefixScorer"], message }]);
    }
    return new ExpectedTtftScorer(name, declared.plugin, p.recomputePenalty);
  },
});
