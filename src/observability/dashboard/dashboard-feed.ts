/**
 * The dashboard's feed: what `/dashboard/events` streams. One interface (DashboardFeed) and one
 * implementation over the gateway's own parts: the datastore (pools, endpoints, configuration,
 * served models), the flow controllers (saturation, bands, flows) and the director's lifecycle
 * hooks (admissions, sheds, expiries, latencies, decisions).
 *
 * Cost: nothing at all while no dashboard is connected (no hook subscription, no timer). While one
 * is, each request costs a few counter updates in `admitted`/`end` and, for at most
 * `decisionsPerTick` requests a tick, one small record in `scheduled`; everything else is read once
 * per tick. Every buffer is bounded (history ticks, decisions, accumulators keyed by configured
 * models and priorities).
 */

import { unservedTargets } from "../../config/served-models-check.ts";
import type { Datastore } from "../../datastore/datastore.ts";
import type { FlowControlMetrics } from "../../flowcontrol/metrics.ts";
import type { ExchangeView } from "../../requestcontrol/exchange-view.ts";
import type { LifecycleHooks } from "../../requestcontrol/lifecycle-hooks.ts";
import {
  type BandState,
  type ConfigState,
  type DashboardEvent,
  type DecisionRecord,
  type PoolQueues,
  type PoolState,
  priorityClass,
  type TrafficPoint,
} from "./events.ts";

/** A stream of dashboard events; `replay()` is what a new connection gets before live events. */
export interface DashboardFeed {
  /** hello, config, the latest pools and queues, the traffic history, the recent decisions. */
  replay(): DashboardEvent[];
  /** Live events; the first subscriber starts the feed, the last one's unsubscribe stops it. */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
  /** Stops everything (gateway shutdown). */
  close(): void;
}

/** What the feed reads. */
export interface DashboardSources {
  readonly datastore: Datastore;
  readonly hooks: LifecycleHooks;
  /** The flow controllers of queueing pools (saturation, bands, flows); without it, pools show no queues. */
  readonly flowControl?: FlowControlMetrics;
}

export interface DashboardFeedOptions {
  /** Tick length, ms (default 1000). */
  readonly tickMs?: number;
  /** Traffic ticks kept for new connections (default 180: the last 3 minutes at 1 s). */
  readonly historyTicks?: number;
  /** Decisions kept for new connections (default 50). */
  readonly decisionsKept?: number;
  /** Decisions recorded per tick at most; the rest are not built (default 20). */
  readonly decisionsPerTick?: number;
  /** Wall clock, ms since the epoch (default Date.now). */
  readonly now?: () => number;
}

/** Per-band counts of one tick. */
interface BandCounts {
  admitted: number;
  shed: number;
  expired: number;
}

/** Per (model, class) sums of one tick. */
interface TrafficSums {
  model: string;
  priority: number | undefined;
  requests: number;
  errors: number;
  ttftSum: number;
  ttftMax: number;
  ttftCount: number;
  tpotSum: number;
  tpotCount: number;
  outputTokens: number;
}

/** At most this many (model, class) keys per tick (models come from the configuration; this is a backstop). */
const MAX_TRAFFIC_KEYS = 256;

const SHED_CODES = new Set(["request_shed", "queue_full"]);

export class GatewayDashboardFeed implements DashboardFeed {
  readonly #sources: DashboardSources;
  readonly #tickMs: number;
  readonly #historyTicks: number;
  readonly #decisionsKept: number;
  readonly #decisionsPerTick: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(e: DashboardEvent) => void>();
  readonly #offConfig: () => void;
  #stop: (() => void) | undefined;
  #lastTick = 0;
  #loadedAt: number;
  #rejected: ConfigState["rejected"] = null;
  #configJson = "";
  #pools: DashboardEvent | undefined;
  #queues: DashboardEvent | undefined;
  readonly #traffic: DashboardEvent[] = [];
  readonly #decisions: DecisionRecord[] = [];
  #tickDecisions: DecisionRecord[] = [];
  #bands = new Map<string, BandCounts>();
  #sums = new Map<string, TrafficSums>();

  constructor(sources: DashboardSources, options: DashboardFeedOptions = {}) {
    this.#sources = sources;
    this.#tickMs = options.tickMs ?? 1000;
    this.#historyTicks = options.historyTicks ?? 180;
    this.#decisionsKept = options.decisionsKept ?? 50;
    this.#decisionsPerTick = options.decisionsPerTick ?? 20;
    this.#now = options.now ?? Date.now;
    this.#loadedAt = this.#now();
    // Reloads are rare: followed always, so `loadedAt` is right whenever a dashboard opens.
    this.#offConfig = sources.datastore.onConfigChanged(() => {
      this.#loadedAt = this.#now();
      this.#rejected = null;
    });
  }

  /** A configuration change was rejected and the running one kept (the composition root calls this). */
  reloadRejected(errors: readonly string[]): void {
    this.#rejected = { at: this.#now(), errors: [...errors] };
  }

  replay(): DashboardEvent[] {
    const at = this.#now();
    const out: DashboardEvent[] = [
      { type: "hello", at, tickMs: this.#tickMs, historyTicks: this.#historyTicks },
      { type: "config", at, config: this.#configState() },
      this.#pools ?? { type: "pools", at, pools: this.#poolStates(at) },
      this.#queues ?? { type: "queues", at, pools: this.#poolQueues(new Map(), 1) },
      ...this.#traffic,
    ];
    if (this.#decisions.length > 0) out.push({ type: "decisions", at, decisions: [...this.#decisions] });
    return out;
  }

  subscribe(listener: (event: DashboardEvent) => void): () => void {
    this.#listeners.add(listener);
    if (this.#stop === undefined) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#halt();
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#halt();
    this.#offConfig();
  }

  /** Runs one tick now (tests drive the feed with this instead of waiting for the timer). */
  tick(): void {
    const at = this.#now();
    const seconds = Math.max(0.001, (at - this.#lastTick) / 1000);
    this.#lastTick = at;
    // The served-models check answers in the background: compare, and send only what changed.
    const config = this.#configState();
    const json = JSON.stringify(config);
    if (json !== this.#configJson) {
      this.#configJson = json;
      this.#emit({ type: "config", at, config });
    }
    this.#pools = { type: "pools", at, pools: this.#poolStates(at) };
    this.#emit(this.#pools);
    const counts = this.#bands;
    this.#bands = new Map();
    this.#queues = { type: "queues", at, pools: this.#poolQueues(counts, seconds) };
    this.#emit(this.#queues);
    const traffic: DashboardEvent = { type: "traffic", at, points: this.#trafficPoints(seconds) };
    this.#traffic.push(traffic);
    if (this.#traffic.length > this.#historyTicks) this.#traffic.shift();
    this.#emit(traffic);
    if (this.#tickDecisions.length > 0) {
      const decisions = this.#tickDecisions;
      this.#tickDecisions = [];
      this.#decisions.push(...decisions);
      if (this.#decisions.length > this.#decisionsKept)
        this.#decisions.splice(0, this.#decisions.length - this.#decisionsKept);
      this.#emit({ type: "decisions", at, decisions });
    }
  }

  #emit(e: DashboardEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #start(): void {
    const { hooks } = this.#sources;
    this.#lastTick = this.#now();
    this.#bands.clear();
    this.#sums.clear();
    this.#configJson = "";
    const offs = [
      hooks.on("admitted", this.#onAdmitted),
      hooks.on("scheduled", this.#onScheduled),
      hooks.on("end", this.#onEnd),
    ];
    const timer = setInterval(() => this.tick(), this.#tickMs);
    timer.unref();
    this.#stop = () => {
      clearInterval(timer);
      for (const off of offs) off();
    };
  }

  #halt(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  #band(ex: ExchangeView): BandCounts | undefined {
    if (ex.poolKey === undefined || ex.priority === undefined) return undefined;
    const key = `${ex.poolKey}\u0000${ex.priority}`;
    let b = this.#bands.get(key);
    if (!b) {
      b = { admitted: 0, shed: 0, expired: 0 };
      this.#bands.set(key, b);
    }
    return b;
  }

  readonly #onAdmitted = (ex: ExchangeView): void => {
    const b = this.#band(ex);
    if (b) b.admitted++;
  };

  readonly #onScheduled = (ex: ExchangeView): void => {
    if (this.#tickDecisions.length >= this.#decisionsPerTick) return;
    const e = ex.explanation;
    this.#tickDecisions.push({
      at: this.#now(),
      requestId: ex.id,
      pool: ex.poolKey ?? "",
      model: ex.clientModel ?? "",
      priorityClass: priorityClass(ex.priority),
      profile: e?.profile ?? null,
      endpoints: [...ex.endpoints],
      candidates: e ? [e.chosen, ...(e.runnerUp ? [e.runnerUp] : [])] : [],
      filteredOut: e?.filteredOut ?? 0,
    });
  };

  readonly #onEnd = (ex: ExchangeView): void => {
    if (ex.errorCode !== undefined) {
      const b = SHED_CODES.has(ex.errorCode) || ex.errorCode === "queue_timeout" ? this.#band(ex) : undefined;
      if (b && ex.errorCode === "queue_timeout") b.expired++;
      else if (b) b.shed++;
    }
    const model = ex.knownModel ? (ex.clientModel ?? "") : "";
    const key = `${model}\u0000${ex.priority ?? ""}`;
    let s = this.#sums.get(key);
    if (!s) {
      if (this.#sums.size >= MAX_TRAFFIC_KEYS) return;
      s = {
        model,
        priority: ex.priority,
        requests: 0,
        errors: 0,
        ttftSum: 0,
        ttftMax: 0,
        ttftCount: 0,
        tpotSum: 0,
        tpotCount: 0,
        outputTokens: 0,
      };
      this.#sums.set(key, s);
    }
    s.requests++;
    if (ex.errorCode !== undefined) s.errors++;
    if (ex.stream && ex.firstTokenAt !== undefined) {
      const ttft = ex.firstTokenAt - ex.receivedAt;
      s.ttftSum += ttft;
      s.ttftCount++;
      if (ttft > s.ttftMax) s.ttftMax = ttft;
      const tokens = ex.completionTokens ?? 0;
      if (tokens > 1 && ex.endedAt !== undefined) {
        s.tpotSum += (ex.endedAt - ex.firstTokenAt) / (tokens - 1);
        s.tpotCount++;
      }
    }
    s.outputTokens += ex.completionTokens ?? 0;
  };

  #poolStates(now: number): PoolState[] {
    const ds = this.#sources.datastore;
    const saturation = new Map<string, number>();
    for (const c of this.#sources.flowControl?.controllers() ?? [])
      saturation.set(c.poolName, c.snapshot().saturation);
    return [...ds.config.pools.values()].map((pool) => {
      const sat = saturation.get(pool.name);
      return {
        pool: pool.key,
        name: pool.name,
        saturation: sat === undefined || !Number.isFinite(sat) ? null : sat,
        endpoints: ds.poolEndpoints(pool.key).map((s) => ({
          id: s.endpoint.id,
          waiting: s.metrics.waiting,
          running: s.metrics.running,
          kvCacheUsage: s.metrics.kvCacheUsage,
          inFlight: s.inFlight.requests,
          metricsAgeMs: s.metrics.updatedAt === 0 ? null : Math.max(0, now - s.metrics.updatedAt),
          stale: ds.isStale(s, now),
          ejection: s.unreachableUntil > now ? { reason: "unreachable", until: s.unreachableUntil } : null,
        })),
      };
    });
  }

  /** Bands of every pool now, with `counts` (one tick's admissions, sheds, expiries) as rates. */
  #poolQueues(counts: ReadonlyMap<string, BandCounts>, seconds: number): PoolQueues[] {
    const ds = this.#sources.datastore;
    const byName = new Map(
      (this.#sources.flowControl?.controllers() ?? []).map((c) => [c.poolName, c] as const),
    );
    return [...ds.config.pools.values()].map((pool) => {
      const controller = byName.get(pool.name);
      const flows = new Map((controller?.flowSizes() ?? []).map((b) => [b.priority, b.flows] as const));
      const bands = new Map<number, BandState>();
      const rate = (n: number) => n / seconds;
      for (const b of controller?.snapshot().bands ?? []) {
        const c = counts.get(`${pool.key}\u0000${b.priority}`);
        bands.set(b.priority, {
          priority: b.priority,
          priorityClass: priorityClass(b.priority),
          queued: b.size,
          bytes: b.bytes,
          flows: (flows.get(b.priority) ?? []).map((f) => ({ flow: f.flowId, queued: f.size })),
          admittedPerS: rate(c?.admitted ?? 0),
          shedPerS: rate(c?.shed ?? 0),
          expiredPerS: rate(c?.expired ?? 0),
        });
      }
      // Priorities that passed this tick without a band (legacy admission, or a band not built yet).
      for (const [key, c] of counts) {
        const [poolKey, p] = key.split("\u0000") as [string, string];
        const priority = Number(p);
        if (poolKey !== pool.key || bands.has(priority)) continue;
        bands.set(priority, {
          priority,
          priorityClass: priorityClass(priority),
          queued: 0,
          bytes: 0,
          flows: [],
          admittedPerS: rate(c.admitted),
          shedPerS: rate(c.shed),
          expiredPerS: rate(c.expired),
        });
      }
      return { pool: pool.key, bands: [...bands.values()].sort((a, b) => b.priority - a.priority) };
    });
  }

  #trafficPoints(seconds: number): TrafficPoint[] {
    const sums = this.#sums;
    this.#sums = new Map();
    return [...sums.values()].map((s) => ({
      model: s.model,
      priorityClass: priorityClass(s.priority),
      requestsPerS: s.requests / seconds,
      errorsPerS: s.errors / seconds,
      ttftMeanMs: s.ttftCount === 0 ? null : s.ttftSum / s.ttftCount,
      ttftMaxMs: s.ttftCount === 0 ? null : s.ttftMax,
      tpotMeanMs: s.tpotCount === 0 ? null : s.tpotSum / s.tpotCount,
      outputTokensPerS: s.outputTokens / seconds,
    }));
  }

  #configState(): ConfigState {
    const ds = this.#sources.datastore;
    const config = ds.config;
    const count = (m: ReadonlyMap<string, ReadonlyMap<string, unknown>>) =>
      [...m.values()].reduce((n, inner) => n + inner.size, 0);
    return {
      loadedAt: this.#loadedAt,
      pools: config.pools.size,
      models: count(config.models),
      objectives: count(config.objectives),
      rejected: this.#rejected,
      servedModels: [...config.pools.values()].map((pool) => {
        const served = ds.servedModels(pool.key);
        return {
          pool: pool.key,
          checked: served !== undefined,
          unserved: served
            ? unservedTargets(config, pool.key, served.models).map((u) => ({
                model: u.model.modelName,
                target: u.target,
              }))
            : [],
        };
      }),
    };
  }
}
