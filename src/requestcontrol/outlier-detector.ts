/**
 * Outlier detection with Envoy's consecutive-failure semantics, over the datastore's endpoint
 * records. The exchange reports each attempt's result; an endpoint with `consecutive5xx` 5xx
 * answers or failed connections in a row (or `consecutiveGatewayFailure` 502/503/504 or failed
 * connections) is ejected at once — unless the pool already has its maximum share ejected —
 * for baseEjectionTime × its ejection count (at most maxEjectionTime). Ejected endpoints get no
 * attempts (Datastore.candidates leaves them out). A sweep every `interval` returns those whose
 * time is up and lowers the ejection count of those in service, so a repeat offender stays out
 * longer and a recovered one is forgiven.
 */
import type { Datastore } from "../datastore/datastore.ts";
import type { EndpointState } from "../datastore/endpoint-state.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";
import type { OutlierSettings } from "./failure-policy.ts";

/** What one attempt on an endpoint came to, as outlier detection counts it. */
export type AttemptResult =
  /** Any answer below 500 (a 429 included): the consecutive counts start over. */
  | { readonly kind: "answer"; readonly status: number }
  /** The connection failed or broke before an answer (a gateway failure and a 5xx, as in Envoy). */
  | { readonly kind: "connect" };

/** An ejection or a return, for logs and metrics. */
export type OutlierEvent =
  | {
      readonly kind: "ejected";
      readonly poolKey: string;
      readonly endpoint: string;
      readonly durationMs: number;
      readonly ejections: number;
      readonly reason: "consecutive_5xx" | "consecutive_gateway_failure";
    }
  | { readonly kind: "returned"; readonly poolKey: string; readonly endpoint: string };

export class OutlierDetector {
  readonly #datastore: Datastore;
  readonly #settingsFor: (poolKey: string) => OutlierSettings | undefined;
  readonly #timers: Timers;
  readonly #listeners = new Set<(e: OutlierEvent) => void>();
  /** Per pool, the next sweep time. */
  #nextSweep = new Map<string, number>();
  #timer: unknown;
  #closed = false;

  /** `settingsFor`: the pool's current settings (undefined for an unknown pool). Sweeps start at once. */
  constructor(
    datastore: Datastore,
    settingsFor: (poolKey: string) => OutlierSettings | undefined,
    timers: Timers = REAL_TIMERS,
  ) {
    this.#datastore = datastore;
    this.#settingsFor = settingsFor;
    this.#timers = timers;
    this.#schedule();
  }

  /** Told of every ejection and return. Returns the unsubscribe. */
  onEvent(fn: (e: OutlierEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** One attempt's result on `endpointId`, routed through pool `poolKey`. O(1) unless it ejects. */
  record(poolKey: string, endpointId: string, result: AttemptResult): void {
    const s = this.#datastore.endpoint(endpointId);
    if (!s) return;
    if (result.kind === "answer" && result.status < 500) {
      s.consecutive5xx = 0;
      s.consecutiveGatewayFailures = 0;
      return;
    }
    const gateway = result.kind === "connect" || (result.status >= 502 && result.status <= 504);
    s.consecutive5xx++;
    s.consecutiveGatewayFailures = gateway ? s.consecutiveGatewayFailures + 1 : 0;
    if (s.ejected) return;
    const o = this.#settingsFor(poolKey);
    if (!o) return;
    const reason =
      o.consecutive5xx > 0 && s.consecutive5xx >= o.consecutive5xx
        ? "consecutive_5xx"
        : o.consecutiveGatewayFailure > 0 && s.consecutiveGatewayFailures >= o.consecutiveGatewayFailure
          ? "consecutive_gateway_failure"
          : undefined;
    if (reason === undefined || !this.#mayEject(poolKey, o)) return;
    s.ejected = true;
    s.ejections++;
    const durationMs = Math.min(
      o.baseEjectionTimeMs * s.ejections,
      Math.max(o.baseEjectionTimeMs, o.maxEjectionTimeMs),
    );
    s.ejectedUntil = this.#timers.now() + durationMs;
    s.consecutive5xx = 0;
    s.consecutiveGatewayFailures = 0;
    this.#emit({
      kind: "ejected",
      poolKey,
      endpoint: endpointId,
      durationMs,
      ejections: s.ejections,
      reason,
    });
  }

  /**
   * Envoy's rule: eject when the share already ejected is below maxEjectionPercent, and at least
   * one endpoint may always be ejected (so 10% of 4 endpoints is 1). A pool of one is never left
   * with none: candidates() would fall back to it anyway.
   */
  #mayEject(poolKey: string, o: OutlierSettings): boolean {
    const members = this.#datastore.poolEndpoints(poolKey);
    if (o.maxEjectionPercent <= 0 || members.length < 2) return false;
    let ejected = 0;
    for (const m of members) if (m.ejected) ejected++;
    const allowed = Math.max(1, Math.floor((members.length * o.maxEjectionPercent) / 100));
    return ejected < allowed;
  }

  /** Runs the sweep of every pool that is due; returns endpoints whose ejection time is up. */
  sweep(): void {
    const now = this.#timers.now();
    const next = new Map<string, number>();
    for (const poolKey of this.#datastore.config.pools.keys()) {
      const o = this.#settingsFor(poolKey);
      if (!o) continue;
      const due = this.#nextSweep.get(poolKey) ?? now + o.intervalMs;
      if (due > now) {
        next.set(poolKey, Math.min(due, now + o.intervalMs));
        continue;
      }
      next.set(poolKey, now + o.intervalMs);
      for (const s of this.#datastore.poolEndpoints(poolKey)) this.#sweepOne(poolKey, s, now);
    }
    this.#nextSweep = next;
  }

  #sweepOne(poolKey: string, s: EndpointState, now: number): void {
    if (s.ejected) {
      if (s.ejectedUntil > now) return;
      s.ejected = false;
      s.ejectedUntil = 0;
      s.consecutive5xx = 0;
      s.consecutiveGatewayFailures = 0;
      this.#emit({ kind: "returned", poolKey, endpoint: s.endpoint.id });
    } else if (s.ejections > 0) {
      s.ejections--;
    }
  }

  /** Stops sweeping. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Wakes at the earliest pool's sweep (at least every second, to pick up new pools and settings). */
  #schedule(): void {
    if (this.#closed) return;
    const now = this.#timers.now();
    let wait = 1000;
    for (const at of this.#nextSweep.values()) wait = Math.min(wait, Math.max(0, at - now));
    this.#timer = this.#timers.setTimeout(() => {
      this.sweep();
      this.#schedule();
    }, wait);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #emit(e: OutlierEvent): void {
    for (const fn of this.#listeners) fn(e);
  }
}
