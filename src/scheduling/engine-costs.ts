/**
 * What an endpoint's work costs, learned from its scraped engine counters (EndpointMetrics.counters):
 * between two scrapes, seconds of prefill per computed prompt token, computed prompt tokens per
 * request, seconds per output token per running request, and requests admitted per second while
 * requests were waiting. Each is a ratio of exponentially decayed sums over the scrapes that saw new
 * work (seconds ÷ tokens, tokens ÷ requests, ...), so each scrape weighs by what it measured: one
 * output token caught during a long prefill step does not outweigh five hundred decode steps after
 * it (the cost model would herd new work off that endpoint).
 *
 * The two unit costs (s/prefill token, s/running request) are learned over the whole pool, one value
 * for every endpoint: measured per endpoint they depend on its load, not its hardware (an engine
 * step has a fixed part, so a server running 30 requests shows a fraction of an idle one's cost per
 * running request, and a busy prefill step more per token), and the cost model then herded new work
 * onto the busiest endpoint. Tokens per request and admissions per second describe the endpoint's
 * own cache and queue and stay per endpoint (an endpoint with none yet gets the pool's mean, else
 * the defaults). Also learned over the pool: the servers' own prompt tokens per request (Δ
 * vllm:prompt_tokens_total ÷ Δ prefilled requests), against which the cost model calibrates a
 * prefix source that only estimates tokens. Read by the expected-TTFT cost model.
 */
import type { EngineCounters } from "../modelserver/endpoint-metrics.ts";
import type { Candidate } from "./types.ts";

/** One endpoint's learned costs. */
export interface EngineCosts {
  /** Seconds of prefill per prompt token computed (not served from cache). */
  readonly prefillSecondsPerToken: number;
  /** Prompt tokens computed per request (the work a waiting request brings). */
  readonly computedTokensPerRequest: number;
  /** Seconds one running request adds to each engine step (time per output token ÷ running). */
  readonly decodeSecondsPerRunning: number;
  /**
   * Requests the engine starts per second while it has a queue (prefilled requests ÷ seconds,
   * over scrapes that saw requests waiting): a queue of n then takes about n ÷ this to clear,
   * whatever holds it back (the token budget, KV blocks, max_num_seqs). 0 = not learned.
   */
  readonly admissionsPerSecond: number;
}

/** Σ numerator ÷ Σ denominator over the samples, older ones decayed by (1 − ALPHA) per new sample. */
export class DecayedRatio {
  #num = 0;
  #den = 0;

  /** `alpha`: the share of the old evidence this sample decays away. */
  add(num: number, den: number, alpha = ALPHA): void {
    this.#num = this.#num * (1 - alpha) + num;
    this.#den = this.#den * (1 - alpha) + den;
  }

  /** Undefined before any sample. */
  get value(): number | undefined {
    return this.#den > 0 ? this.#num / this.#den : undefined;
  }
}

/** The costs learned over the whole pool (see the module comment). */
type PoolKey = "prefillSecondsPerToken" | "decodeSecondsPerRunning";
/** The costs learned per endpoint. */
type OwnKey = Exclude<keyof EngineCosts, PoolKey>;

interface Learned {
  updatedAt: number;
  last: EngineCounters;
  costs: Record<OwnKey, DecayedRatio>;
}

/** Share of the old evidence each new sample decays away. */
const ALPHA = 0.2;
/** Endpoints remembered at most (endpoints that left are forgotten first). */
const MAX_ENDPOINTS = 10_000;

export class EngineCostLearner {
  readonly #defaults: EngineCosts;
  readonly #learned = new Map<string, Learned>();
  readonly #pool: Record<PoolKey, DecayedRatio> = {
    prefillSecondsPerToken: new DecayedRatio(),
    decodeSecondsPerRunning: new DecayedRatio(),
  };
  readonly #promptTokensPerRequest = new DecayedRatio();
  /** The pool means, recomputed on the first read after something was learned. */
  #poolMeans: Partial<Record<OwnKey, number>> | undefined;
  /** costs() answers, per endpoint (and "" for unknown ones), until something is learned. */
  readonly #answers = new Map<string, EngineCosts>();

  constructor(defaults: EngineCosts) {
    this.#defaults = defaults;
  }

  /** Folds in the candidate's latest scrape if it is new (cheap when it is not). */
  observe(c: Candidate): void {
    const counters = c.metrics.counters;
    if (counters === undefined) return;
    const id = c.endpoint.id;
    const l = this.#learned.get(id);
    if (l === undefined) {
      if (this.#learned.size >= MAX_ENDPOINTS) this.#learned.delete(this.#learned.keys().next().value!);
      this.#learned.set(id, {
        updatedAt: c.metrics.updatedAt,
        last: { ...counters },
        costs: { computedTokensPerRequest: new DecayedRatio(), admissionsPerSecond: new DecayedRatio() },
      });
      return;
    }
    if (l.updatedAt === c.metrics.updatedAt) return;
    const dSeconds = (c.metrics.updatedAt - l.updatedAt) / 1000;
    l.updatedAt = c.metrics.updatedAt;
    const dTokens = counters.computedPromptTokens - l.last.computedPromptTokens;
    const dPrefill = counters.prefillSeconds - l.last.prefillSeconds;
    const dRequests = counters.prefilledRequests - l.last.prefilledRequests;
    const dTpot = counters.tpotSeconds - l.last.tpotSeconds;
    const dTpotCount = counters.tpotCount - l.last.tpotCount;
    if (dTokens < 0 || dRequests < 0 || dTpotCount < 0) {
      l.last = { ...counters }; // the server restarted: counters started over
      return;
    }
    // Each endpoint's scrape is one pool sample: decay by ALPHA per round of scrapes, not per sample.
    const poolAlpha = ALPHA / this.#learned.size;
    const dPrompt = (counters.promptTokens ?? 0) - (l.last.promptTokens ?? 0);
    // Prompt tokens count at the first token, requests when they finish: sums over scrapes line up.
    if (counters.promptTokens !== undefined && l.last.promptTokens !== undefined && dPrompt >= 0)
      this.#promptTokensPerRequest.add(dPrompt, dRequests, poolAlpha);
    if (dTokens > 0 && dPrefill > 0 && dRequests > 0) {
      this.#pool.prefillSecondsPerToken.add(dPrefill, dTokens, poolAlpha);
      l.costs.computedTokensPerRequest.add(dTokens, dRequests);
    }
    if (c.metrics.waiting > 0 && dSeconds > 0) l.costs.admissionsPerSecond.add(dRequests, dSeconds);
    if (dTpotCount > 0 && dTpot > 0) {
      this.#pool.decodeSecondsPerRunning.add(dTpot / Math.max(1, c.metrics.running), dTpotCount, poolAlpha);
    }
    l.last = { ...counters };
    this.#poolMeans = undefined;
    this.#answers.clear();
  }

  /** The endpoint's costs: the pool's unit costs; its own tokens/request and admissions, else the pool's mean; else the defaults. */
  costs(endpointId: string): EngineCosts {
    const own = this.#learned.get(endpointId)?.costs;
    const key = own === undefined ? "" : endpointId;
    let answer = this.#answers.get(key);
    if (answer === undefined) {
      const pick = (k: OwnKey): number => own?.[k].value ?? this.#poolMean(k) ?? this.#defaults[k];
      const pooled = (k: PoolKey): number => this.#pool[k].value ?? this.#defaults[k];
      answer = {
        prefillSecondsPerToken: pooled("prefillSecondsPerToken"),
        computedTokensPerRequest: pick("computedTokensPerRequest"),
        decodeSecondsPerRunning: pooled("decodeSecondsPerRunning"),
        admissionsPerSecond: pick("admissionsPerSecond"),
      };
      this.#answers.set(key, answer);
    }
    return answer;
  }

  /** The servers' prompt tokens per request over the pool (their tokenizer's count); undefined until scraped. */
  promptTokensPerRequest(): number | undefined {
    return this.#promptTokensPerRequest.value;
  }

  /** Forgets an endpoint that left. */
  remove(endpointId: string): void {
    this.#learned.delete(endpointId);
    this.#poolMeans = undefined;
    this.#answers.clear();
  }

  #poolMean(k: OwnKey): number | undefined {
    if (this.#poolMeans === undefined) {
      const means: Partial<Record<OwnKey, number>> = {};
      for (const key of ["computedTokensPerRequest", "admissionsPerSecond"] as const) {
        let sum = 0;
        let n = 0;
        for (const l of this.#learned.values()) {
          const v = l.costs[key].value;
          if (v !== undefined) {
            sum += v;
            n++;
          }
        }
        if (n > 0) means[key] = sum / n;
      }
      this.#poolMeans = means;
    }
    return this.#poolMeans[k];
  }
}
