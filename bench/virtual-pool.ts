/**
 * A pool of simulated engines (src/sim's Engine) as the gateway sees it, on one virtual clock
 * (bench/virtual-clock.ts): each engine steps on the clock, each endpoint is scraped every scrapeMs
 * into its Candidate (waiting, running, KV use, the vLLM counters the cost model learns from, the
 * in-flight count when the scrape started), requests cost hopMs each way, and with kvEvents every
 * step's KV-cache events reach the endpoint's subscriber (connect(), a KvEventsTracker's `connect`)
 * hopMs after the step, msgpack-encoded and decoded as `igw sim` publishes them and a subscriber
 * reads them. Shared by bench:priority-virtual and bench:routing-virtual; the gateway's schedulers
 * run on `candidates` as they run on the datastore's.
 */

import { expectedKvTokens } from "../src/flowcontrol/saturation/projected-kv.ts";
import { decodeKvEventBatch, encodeKvEventBatch } from "../src/kvcache/kv-events.ts";
import type { KvEventsSubscriberOptions } from "../src/kvcache/kv-events-subscriber.ts";
import { emptyMetrics } from "../src/modelserver/endpoint-metrics.ts";
import { ANSWERED_WINDOW, RecentMax } from "../src/modelserver/recent-max.ts";
import {
  PrecisePrefixCacheScorer,
  type PrecisePrefixCacheScorerOptions,
  precisePrefixCacheScorerPlugin,
} from "../src/scheduling/plugins/scorers/precise-prefix-cache-scorer.ts";
import type { PoolScheduling } from "../src/scheduling/pool-scheduling.ts";
import type { Candidate, SchedulingRequest } from "../src/scheduling/types.ts";
import { Engine, type StepPlan } from "../src/sim/engine.ts";
import { engineConfig, type SimOptions } from "../src/sim/options.ts";
import type { Sequence } from "../src/sim/sequence.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface VirtualPoolConfig {
  readonly clock: VirtualClock;
  /** What `igw sim` would run (profile, blocks, seed, ...); replica i gets engineConfig(options, i). */
  readonly options: SimOptions;
  readonly servers: number;
  /** Engine ms per clock ms (`igw sim --time-scale`). */
  readonly timeScale: number;
  readonly scrapeMs: number;
  /** One way between the gateway and a server, clock ms. */
  readonly hopMs: number;
  /** Called after every scrape has updated its candidate. */
  readonly onScrape?: () => void;
  /** Engines record KV-cache events, delivered to connect()'s subscribers. */
  readonly kvEvents?: boolean;
}

/** What a client sends: the prompt's token ids, max tokens (ignore_eos), the engine priority. */
export interface VirtualRequest {
  readonly id: string;
  readonly prompt: readonly number[];
  readonly maxTokens: number;
  /** vLLM's priority field (lower first under --scheduling-policy priority); 0 otherwise. */
  readonly priority: number;
}

/** Called at the client: the first token, and the end of the response (both hopMs after the engine). */
export interface VirtualResponse {
  onFirstToken?(): void;
  onDone?(): void;
}

export class VirtualPool {
  readonly engines: Engine[];
  readonly candidates: Candidate[];
  readonly #c: VirtualPoolConfig;
  readonly #stepping: boolean[];
  readonly #onToken = new Map<Sequence, () => void>();
  /** Per server: its subscriber's onBatch, and the next sequence number it publishes. */
  readonly #subscribers = new Map<number, KvEventsSubscriberOptions["onBatch"]>();
  readonly #nextSeq: bigint[];
  /** Per server, what its scrapes found answered (the scraper's EndpointMetrics.answeredAtRecentScrapes). */
  readonly #answered: RecentMax[];

  constructor(config: VirtualPoolConfig) {
    this.#c = config;
    const kvEvents = config.kvEvents === true;
    this.engines = Array.from(
      { length: config.servers },
      (_, i) => new Engine({ ...engineConfig(config.options, i), kvEvents, timeScale: config.timeScale }),
    );
    this.#answered = this.engines.map(() => new RecentMax(ANSWERED_WINDOW));
    const blocks = this.engines[0]!.config.numGpuBlocks;
    const blockSize = this.engines[0]!.config.blockSize;
    this.candidates = this.engines.map((_, i) => ({
      endpoint: { id: `10.0.0.${i + 1}:8000`, host: `10.0.0.${i + 1}`, port: 8000, labels: {} },
      metrics: { ...emptyMetrics(), numGpuBlocks: blocks, blockSize },
      inFlight: { requests: 0, tokens: 0, kvTokens: 0 },
      stale: false,
    }));
    this.#stepping = this.engines.map(() => false);
    this.#nextSeq = this.engines.map(() => 0n);
    for (let i = 0; i < config.servers; i++)
      config.clock.at((i * config.scrapeMs) / config.servers, () => this.#scrape(i));
  }

  /**
   * Sends the request to server i now: charged to its in-flight count at once (as the director
   * does), queued at the engine hopMs later; the in-flight charge ends when the response is back.
   */
  send(i: number, req: VirtualRequest, response: VirtualResponse = {}): void {
    const { clock, hopMs, timeScale } = this.#c;
    const c = this.candidates[i]!;
    const charge = req.prompt.length + req.maxTokens;
    // As the exchange charges it (requestcontrol/exchange.ts): the KV the request holds on average.
    const kvTokens = expectedKvTokens(req.prompt.length, req.maxTokens, c.metrics.counters);
    c.inFlight.requests++;
    c.inFlight.tokens += charge;
    c.inFlight.kvTokens += kvTokens;
    clock.at(clock.now() + hopMs, () => {
      const seq = this.engines[i]!.add(
        {
          id: req.id,
          promptTokens: [...req.prompt],
          maxTokens: req.maxTokens,
          ignoreEos: true,
          adapter: null,
          priority: req.priority,
        },
        clock.now() * timeScale,
      );
      let first = true;
      this.#onToken.set(seq, () => {
        if (first) {
          first = false;
          if (response.onFirstToken) clock.at(clock.now() + hopMs, response.onFirstToken);
        }
        if (seq.status !== "finished") return;
        this.#onToken.delete(seq);
        clock.at(clock.now() + hopMs, () => {
          c.inFlight.requests--;
          c.inFlight.tokens -= charge;
          c.inFlight.kvTokens -= kvTokens;
          response.onDone?.();
        });
      });
      this.#step(i);
    });
  }

  /** A KvEventsTracker's `connect` for this pool: the endpoint's batches go to options.onBatch. */
  readonly connect = (endpointId: string, options: KvEventsSubscriberOptions): { close(): void } => {
    const i = this.candidates.findIndex((c) => c.endpoint.id === endpointId);
    if (i < 0) throw new Error(`no server ${endpointId} in the virtual pool`);
    this.#subscribers.set(i, options.onBatch);
    return { close: () => this.#subscribers.delete(i) };
  };

  #step(i: number): void {
    if (this.#stepping[i]) return;
    const { clock, timeScale } = this.#c;
    const plan = this.engines[i]!.schedule(clock.now() * timeScale);
    if (plan === null) return;
    this.#stepping[i] = true;
    clock.at(clock.now() + plan.durationMs / timeScale, () => this.#endStep(i, plan));
  }

  #endStep(i: number, plan: StepPlan): void {
    const { clock, timeScale, kvEvents, hopMs } = this.#c;
    this.#stepping[i] = false;
    const engine = this.engines[i]!;
    for (const ev of engine.complete(plan, clock.now() * timeScale)) this.#onToken.get(ev.seq)?.();
    if (kvEvents) {
      const events = engine.takeEvents();
      if (events.length > 0) {
        const wire = encodeKvEventBatch({ ts: clock.now() / 1000, events, dataParallelRank: 0 }, "map");
        const seq = this.#nextSeq[i]!;
        this.#nextSeq[i] = seq + 1n;
        clock.at(clock.now() + hopMs, () => this.#subscribers.get(i)?.(decodeKvEventBatch(wire), seq));
      }
    }
    this.#step(i);
  }

  #scrape(i: number): void {
    const { clock, hopMs, scrapeMs } = this.#c;
    const c = this.candidates[i]!;
    const atStart = c.inFlight.requests;
    const answered = this.#answered[i]!;
    clock.at(clock.now() + hopMs, () => {
      const st = this.engines[i]!.stats;
      Object.assign(c.metrics, {
        waiting: st.numWaiting,
        running: st.numRunning,
        kvCacheUsage: st.kvUsage,
        counters: {
          prefillSeconds: st.prefill.sum,
          prefilledRequests: st.prefill.count,
          computedPromptTokens: Math.max(0, st.promptTokens - st.prefixHits),
          promptTokens: st.promptTokens,
          tpotSeconds: st.tpot.sum,
          tpotCount: st.tpot.count,
          generationTokens: st.generationTokensHist.sum,
          finishedRequests: st.generationTokensHist.count,
        },
        inFlightRequestsAtScrape: atStart,
        answeredAtRecentScrapes: answered.record(atStart - st.numRunning - st.numWaiting),
        updatedAt: clock.now(),
      });
      this.#c.onScrape?.();
    });
    clock.at(clock.now() + scrapeMs, () => this.#scrape(i));
  }

  /** Engine prefix-cache hit rate over every server (tokens hit ÷ tokens looked up). */
  hitRate(): number {
    let hits = 0;
    let queries = 0;
    for (const e of this.engines) {
      hits += e.stats.prefixHits;
      queries += e.stats.prefixQueries;
    }
    return queries === 0 ? 0 : hits / queries;
  }

  /** Requests each server finished. */
  finishedPerServer(): number[] {
    return this.engines.map((e) => e.stats.success.stop + e.stats.success.length);
  }
}

/**
 * The server a gateway scheduler picks for the request (its target), after telling the pre-request
 * hooks, as the director does before it sends.
 */
export function gatewayPick(
  scheduling: Pick<PoolScheduling, "scheduler" | "preRequestHooks">,
  request: SchedulingRequest,
  candidates: readonly Candidate[],
): number {
  const chosen = scheduling.scheduler.schedule(request, candidates).endpoints[0];
  if (chosen === undefined) throw new Error(`no endpoint for ${request.requestId}`);
  for (const h of scheduling.preRequestHooks) h.preRequest(request, chosen);
  return candidates.indexOf(chosen);
}

/**
 * precise-prefix-cache-scorer with its parameters' defaults (PYTHONHASHSEED 0, the simulator's
 * tokenizer) and `overrides`, its tracker on the pool's clock and subscribed through pool.connect.
 */
export function virtualPreciseScorer(
  pool: VirtualPool,
  clock: VirtualClock,
  overrides: Partial<PrecisePrefixCacheScorerOptions> = {},
): PrecisePrefixCacheScorer {
  const defaults = precisePrefixCacheScorerPlugin.parameters.parse({ hashSeed: "0" }) as Omit<
    PrecisePrefixCacheScorerOptions,
    "tokenizer"
  >;
  return new PrecisePrefixCacheScorer(
    "precise-prefix-cache-scorer",
    { ...defaults, tokenizer: "simulator", ...overrides },
    { now: () => clock.now(), connect: pool.connect },
  );
}
