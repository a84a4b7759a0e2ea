/**
 * One in-memory truth for the data plane: the current ConfigSnapshot (pools, models, objectives,
 * routes) and the endpoints, with per-endpoint mutable state. Sources (`config/config-source.ts`)
 * hand it whole updates: config and endpoint list are swapped together (`apply`); endpoint state
 * survives a swap when the endpoint stays.
 */
import type { Candidate } from "../scheduling/types.ts";
import type { ConfigSnapshot } from "./config-snapshot.ts";
import type { EndpointSpec } from "./endpoint-spec.ts";
import { type EndpointState, endpointId, newEndpointState } from "./endpoint-state.ts";
import { matchesSelector } from "./selector.ts";

/** Endpoints that appeared or disappeared in one swap (for scrapers and connection pools). */
export interface EndpointsChange {
  readonly added: readonly EndpointState[];
  readonly removed: readonly EndpointState[];
}

/** What a pool's servers said they serve (`/v1/models`): base models and LoRA adapters. */
export interface ServedModels {
  readonly models: ReadonlySet<string>;
  readonly adapters: ReadonlySet<string>;
}

export interface DatastoreOptions {
  /** Metrics older than this are stale (ms). Default 2000 (GIE's --metrics-staleness-threshold). */
  readonly stalenessMs?: number;
  /**
   * Whether a never-scraped endpoint counts as stale. Default false: until a scraper runs, every
   * endpoint would be stale and load-aware scorers could not tell them apart anyway; the scraper
   * sets it true (via `setNeverScrapedIsStale`) once it starts.
   */
  readonly neverScrapedIsStale?: boolean;
}

export class Datastore {
  #config: ConfigSnapshot;
  #specs: readonly EndpointSpec[] = [];
  #endpoints = new Map<string, EndpointState>();
  #poolMembers = new Map<string, EndpointState[]>();
  /** Per pool, one reusable Candidate per member (see candidates()). */
  #poolCandidates = new Map<string, CandidateRecord[]>();
  #endpointListeners = new Set<(change: EndpointsChange) => void>();
  #configListeners = new Set<(config: ConfigSnapshot) => void>();
  #served = new Map<string, ServedModels>();
  #stalenessMs: number;
  #neverScrapedIsStale: boolean;

  /** Starts with `config` and no endpoints (the first `apply` brings them). */
  constructor(config: ConfigSnapshot, options: DatastoreOptions = {}) {
    this.#config = config;
    this.#stalenessMs = options.stalenessMs ?? 2000;
    this.#neverScrapedIsStale = options.neverScrapedIsStale ?? false;
    this.#recompute();
  }

  /** The current configuration (immutable; replaced as a whole on reload). */
  get config(): ConfigSnapshot {
    return this.#config;
  }

  /**
   * Swaps in a configuration and an endpoint list together, from one source update: pool
   * membership is recomputed once, then the configuration listeners run (when `config` is a new
   * snapshot) and the endpoint listeners (when endpoints came or went). Every listener already
   * sees both halves of the update. Pass the current `config` for an endpoints-only change.
   */
  apply(config: ConfigSnapshot, specs: readonly EndpointSpec[]): void {
    const configChanged = config !== this.#config;
    this.#config = config;
    this.#specs = specs;
    const change = this.#recompute();
    if (configChanged) for (const fn of this.#configListeners) fn(config);
    if (change.added.length > 0 || change.removed.length > 0)
      for (const fn of this.#endpointListeners) fn(change);
  }

  /** See DatastoreOptions.neverScrapedIsStale; the scraper calls this with true when it starts. */
  setNeverScrapedIsStale(value: boolean): void {
    this.#neverScrapedIsStale = value;
  }

  /** Every endpoint of every pool, each once. */
  endpoints(): EndpointState[] {
    return [...this.#endpoints.values()];
  }

  /** The state record of one endpoint (`host:port`). */
  endpoint(id: string): EndpointState | undefined {
    return this.#endpoints.get(id);
  }

  /** The pool's endpoints (live records). */
  poolEndpoints(poolKey: string): readonly EndpointState[] {
    return this.#poolMembers.get(poolKey) ?? [];
  }

  /**
   * Candidates for scheduling, as of `now`; `metrics`/`inFlight` are the live records. Endpoints in
   * their back-off after failed connections, and endpoints ejected by outlier detection, are left
   * out, unless that would leave none. The array and its objects are reused from call to call (no
   * allocation on the request path): read them synchronously, never mutate or keep them.
   */
  candidates(poolKey: string, now: number = Date.now()): readonly Candidate[] {
    const members = this.#poolCandidates.get(poolKey);
    if (!members) return NO_CANDIDATES;
    let leftOut = false;
    for (const c of members) {
      const s = c.state;
      c.metrics = s.metrics;
      c.stale = this.isStale(s, now);
      if (s.unreachableUntil > now || s.ejected) leftOut = true;
    }
    if (!leftOut) return members;
    const usable = members.filter((c) => c.state.unreachableUntil <= now && !c.state.ejected);
    return usable.length === 0 ? members : usable;
  }

  /**
   * Endpoints of the pool that count as ready (`inference_pool_ready_pods`): not refusing
   * connections, neither to requests (their back-off) nor to the metrics scraper.
   */
  readyCount(poolKey: string, now: number = Date.now()): number {
    let n = 0;
    for (const s of this.poolEndpoints(poolKey)) if (s.unreachableUntil <= now && !s.connectRefused) n++;
    return n;
  }

  /** Whether the endpoint's metrics are older than the staleness threshold (or never scraped, once a scraper runs). */
  isStale(s: EndpointState, now: number = Date.now()): boolean {
    return s.metrics.updatedAt === 0
      ? this.#neverScrapedIsStale
      : now - s.metrics.updatedAt > this.#stalenessMs;
  }

  /**
   * A connection to the endpoint failed: skip it for 1 s, doubling per consecutive failure up to
   * 30 s. Called by the director; `markReachable` ends the back-off. `started`: it was not
   * backing off before (so callers can log once per episode).
   */
  markUnreachable(id: string, now: number = Date.now()): { backoffMs: number; started: boolean } | undefined {
    const s = this.#endpoints.get(id);
    if (!s) return undefined;
    const started = s.unreachableUntil <= now;
    s.connectFailures++;
    const backoffMs = Math.min(30_000, 1000 * 2 ** (s.connectFailures - 1));
    s.unreachableUntil = now + backoffMs;
    return { backoffMs, started };
  }

  /** The endpoint answered: no back-off. True when it was backing off. */
  markReachable(id: string): boolean {
    const s = this.#endpoints.get(id);
    if (!s || (s.connectFailures === 0 && s.unreachableUntil === 0)) return false;
    s.connectFailures = 0;
    s.unreachableUntil = 0;
    return true;
  }

  /** Records what a pool's servers serve (written by the served-models check). */
  setServedModels(poolKey: string, served: ServedModels): void {
    this.#served.set(poolKey, served);
  }

  /** What the pool's servers last said they serve; undefined before the first answer. */
  servedModels(poolKey: string): ServedModels | undefined {
    return this.#served.get(poolKey);
  }

  /** Called after every `apply` that adds or removes endpoints. Returns an unsubscribe function. */
  onEndpointsChanged(fn: (change: EndpointsChange) => void): () => void {
    this.#endpointListeners.add(fn);
    return () => this.#endpointListeners.delete(fn);
  }

  /** Called after every `apply` with a new configuration. Returns an unsubscribe function. */
  onConfigChanged(fn: (config: ConfigSnapshot) => void): () => void {
    this.#configListeners.add(fn);
    return () => this.#configListeners.delete(fn);
  }

  /** Pool membership from the current config and specs; returns what came and went. */
  #recompute(): EndpointsChange {
    const next = new Map<string, EndpointState>();
    const members = new Map<string, EndpointState[]>();
    for (const pool of this.#config.pools.values()) {
      const list: EndpointState[] = [];
      for (const spec of this.#specs) {
        if (spec.namespace !== undefined && spec.namespace !== pool.namespace) continue;
        if (!matchesSelector(spec.labels, pool.selector)) continue;
        for (const port of spec.port !== undefined ? [spec.port] : pool.targetPorts) {
          const id = endpointId(spec.host, port);
          let state = next.get(id) ?? this.#endpoints.get(id);
          if (!state || !sameLabels(state.endpoint.labels, spec.labels)) {
            state = newEndpointState({ id, host: spec.host, port, labels: spec.labels });
          }
          next.set(id, state);
          if (!list.includes(state)) list.push(state);
        }
      }
      members.set(pool.key, list);
    }
    const added = [...next.values()].filter((s) => this.#endpoints.get(s.endpoint.id) !== s);
    const removed = [...this.#endpoints.values()].filter((s) => next.get(s.endpoint.id) !== s);
    this.#endpoints = next;
    this.#poolMembers = members;
    this.#poolCandidates = new Map(
      [...members].map(([key, list]) => [key, list.map((state) => new CandidateRecord(state))]),
    );
    return { added, removed };
  }
}

const NO_CANDIDATES: readonly Candidate[] = [];

/** A Candidate bound to one endpoint's state; `metrics` and `stale` are refreshed by candidates(). */
class CandidateRecord implements Candidate {
  readonly state: EndpointState;
  readonly endpoint: EndpointState["endpoint"];
  readonly inFlight: EndpointState["inFlight"];
  metrics: EndpointState["metrics"];
  stale = false;

  constructor(state: EndpointState) {
    this.state = state;
    this.endpoint = state.endpoint;
    this.inFlight = state.inFlight;
    this.metrics = state.metrics;
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
