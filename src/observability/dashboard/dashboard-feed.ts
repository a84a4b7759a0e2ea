/**
 * The dashboard's feed: what `/dashboard/events` streams. One interface (DashboardFeed) and one
 * implementation over the gateway's own parts: the datastore (pools, endpoints, configuration,
 * served models), the flow controllers (saturation, bands, flows) and the director's lifecycle
 * hooks (admissions, sheds, expiries, latencies, decisions).
 *
 * Cost: nothing at all while no dashboard is connected (no hook subscription, no timer, no
 * explanations). While one is, each request costs a few counter updates in `admitted`/`end` and, for
 * at most `decisionsPerTick` requests a tick, a scheduler explanation and one small record in
 * `scheduled`; everything else is read once per tick. Every buffer is bounded (history ticks,
 * decisions, accumulators keyed by configured models, priorities and at most MAX_FLOWS flows a band).
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
  /**
   * Asks the scheduler for decision explanations while `wanted()` says so; returns the release
   * (Director.explainWhile). The feed holds it while a page is open, wanting one for each decision
   * it will record. Without it, decisions show scores only when the gateway explains them anyway.
   */
  readonly explain?: (wanted: () => boolean) => () => void;
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

/** Admissions, sheds and TTL expiries of one tick. */
interface Counts {
  admitted: number;
  shed: number;
  expired: number;
}

/** Per-band counts of one tick, and of its flows (at most MAX_FLOWS; the band counts every request). */
interface BandCounts extends Counts {
  readonly flows: Map<string, Counts>;
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

/** Flows counted per band and tick, and flows listed per band (the fairness id is a client header). */
const MAX_FLOWS = 32;
/** Characters of a flow id kept (longer ids are cut, so a hostile header cannot bloat events). */
const MAX_FLOW_ID = 128;

/** Errors of a rejected reload kept for the page. */
const MAX_REJECTED_ERRORS = 50;

const SHED_CODES = new Set(["request_shed", "queue_full"]);

const zero = (): Counts => ({ admitted: 0, shed: 0, expired: 0 });

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
  /** This tick's counts by pool, then priority (nested maps: no key strings built per request). */
  #bands = new Map<string, Map<number, BandCounts>>();
  /** This tick's sums by model, then priority; #sumCount of them. */
  #sums = new Map<string, Map<number | undefined, TrafficSums>>();
  #sumCount = 0;

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

  /** A configuration change was rejected and the running one kept (the composition root calls this); 50 errors kept. */
  reloadRejected(errors: readonly string[]): void {
    const kept = errors.slice(0, MAX_REJECTED_ERRORS);
    if (errors.length > kept.length) kept.push(`… and ${errors.length - kept.length} more`);
    this.#rejected = { at: this.#now(), errors: kept };
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
    this.#sumCount = 0;
    this.#configJson = "";
    const offs = [
      hooks.on("admitted", this.#onAdmitted),
      hooks.on("scheduled", this.#onScheduled),
      hooks.on("end", this.#onEnd),
      // Explained: the decisions this tick will still record (the scheduler asks just before `scheduled`).
      this.#sources.explain?.(() => this.#tickDecisions.length < this.#decisionsPerTick) ?? (() => {}),
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

  /** Adds one to `what` of the exchange's band and flow. */
  #count(ex: ExchangeView, what: keyof Counts): void {
    if (ex.poolKey === undefined || ex.priority === undefined) return;
    let pool = this.#bands.get(ex.poolKey);
    if (!pool) {
      pool = new Map();
      this.#bands.set(ex.poolKey, pool);
    }
    let b = pool.get(ex.priority);
    if (!b) {
      b = { ...zero(), flows: new Map() };
      pool.set(ex.priority, b);
    }
    b[what]++;
    if (ex.flowId === undefined) return;
    const id = ex.flowId.length > MAX_FLOW_ID ? ex.flowId.slice(0, MAX_FLOW_ID) : ex.flowId;
    let f = b.flows.get(id);
    if (!f) {
      if (b.flows.size >= MAX_FLOWS) return;
      f = zero();
      b.flows.set(id, f);
    }
    f[what]++;
  }

  readonly #onAdmitted = (ex: ExchangeView): void => {
    this.#count(ex, "admitted");
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
      candidates: e ? [e.chosen, ...(e.runnerUp ? [e.runnerUp] : []), ...(e.others ?? [])] : [],
      omitted: e?.omitted ?? 0,
      filteredOut: e?.filteredOut ?? 0,
    });
  };

  readonly #onEnd = (ex: ExchangeView): void => {
    if (ex.errorCode === "queue_timeout") this.#count(ex, "expired");
    else if (ex.errorCode !== undefined && SHED_CODES.has(ex.errorCode)) this.#count(ex, "shed");
    const model = ex.knownModel ? (ex.clientModel ?? "") : "";
    let byPriority = this.#sums.get(model);
    let s = byPriority?.get(ex.priority);
    if (!s) {
      if (this.#sumCount >= MAX_TRAFFIC_KEYS) return;
      if (!byPriority) {
        byPriority = new Map();
        this.#sums.set(model, byPriority);
      }
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
      byPriority.set(ex.priority, s);
      this.#sumCount++;
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
          ejection: s.ejected
            ? { reason: "ejected", until: s.ejectedUntil }
            : s.unreachableUntil > now
              ? { reason: "unreachable", until: s.unreachableUntil }
              : null,
        })),
      };
    });
  }

  /** Bands of every pool now, with `counts` (one tick's admissions, sheds, expiries) as rates. */
  #poolQueues(counts: ReadonlyMap<string, ReadonlyMap<number, BandCounts>>, seconds: number): PoolQueues[] {
    const ds = this.#sources.datastore;
    const byName = new Map(
      (this.#sources.flowControl?.controllers() ?? []).map((c) => [c.poolName, c] as const),
    );
    return [...ds.config.pools.values()].map((pool) => {
      const controller = byName.get(pool.name);
      const flows = new Map((controller?.flowSizes() ?? []).map((b) => [b.priority, b.flows] as const));
      const bands = new Map<number, BandState>();
      const rate = (n: number) => n / seconds;
      const poolCounts = counts.get(pool.key);
      for (const b of controller?.snapshot().bands ?? []) {
        const c = poolCounts?.get(b.priority);
        bands.set(b.priority, {
          priority: b.priority,
          priorityClass: priorityClass(b.priority),
          queued: b.size,
          bytes: b.bytes,
          ...flowStates(flows.get(b.priority) ?? [], c?.flows, seconds),
          admittedPerS: rate(c?.admitted ?? 0),
          shedPerS: rate(c?.shed ?? 0),
          expiredPerS: rate(c?.expired ?? 0),
        });
      }
      // Priorities that passed this tick without a band (legacy admission, or a band not built yet).
      for (const [priority, c] of poolCounts ?? []) {
        if (bands.has(priority)) continue;
        bands.set(priority, {
          priority,
          priorityClass: priorityClass(priority),
          queued: 0,
          bytes: 0,
          ...flowStates([], c.flows, seconds),
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
    this.#sumCount = 0;
    return [...sums.values()]
      .flatMap((m) => [...m.values()])
      .map((s) => ({
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

/**
 * A band's flows: those queued now and those that passed during the tick, most queued first, then
 * busiest; at most MAX_FLOWS, with the number left out.
 */
function flowStates(
  queued: readonly { readonly flowId: string; readonly size: number }[],
  counts: ReadonlyMap<string, Counts> | undefined,
  seconds: number,
): Pick<BandState, "flows" | "otherFlows"> {
  const sizes = new Map<string, number>();
  for (const f of queued) {
    const id = f.flowId.length > MAX_FLOW_ID ? f.flowId.slice(0, MAX_FLOW_ID) : f.flowId;
    sizes.set(id, (sizes.get(id) ?? 0) + f.size);
  }
  const ids = new Set([...sizes.keys(), ...(counts?.keys() ?? [])]);
  const all = [...ids].map((flow) => {
    const c = counts?.get(flow) ?? zero();
    return {
      flow,
      queued: sizes.get(flow) ?? 0,
      admittedPerS: c.admitted / seconds,
      shedPerS: c.shed / seconds,
      expiredPerS: c.expired / seconds,
    };
  });
  const busy = (f: (typeof all)[number]) => f.admittedPerS + f.shedPerS + f.expiredPerS;
  all.sort((a, b) => b.queued - a.queued || busy(b) - busy(a) || (a.flow < b.flow ? -1 : 1));
  return { flows: all.slice(0, MAX_FLOWS), otherFlows: Math.max(0, all.length - MAX_FLOWS) };
}
