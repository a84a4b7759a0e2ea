/**
 * The flow controller: the Admitter of a pool with queueing on. A request passes at once when the
 * pool is below its band's usage limit and nothing of equal or higher priority waits; otherwise it
 * waits in its band (fair between flows, ordered within a flow) until a dispatch cycle releases it.
 * Cycles run on notify() (metrics refresh, request completion) and continue one request per event
 * loop turn while capacity lasts.
 *
 * Accounting before the next check: a request that carries `onAdmitted` is charged by its caller
 * synchronously at admission (the exchange schedules it and charges in-flight there), so the
 * detector sees it at once: such requests pass at once whenever there is room, and a cycle
 * releases as many of them as the room allows. A request without it may only be accounted in the
 * continuation of admit()'s promise, so after its release the rest of the turn is its caller's and
 * the next release waits for a cycle scheduled with `timers.nextTurn` (one per turn). Time,
 * timeouts and turns all come from the injected Timers.
 *
 * A saturated higher band stops the cycle (no lower band overtakes it). While a higher band is
 * active (dispatched within `activeWindow`), lower bands stop `activeReserve` earlier, keeping room
 * for it; and for `reclaimWindow` after one of its requests is dispatched or completes, lower bands
 * wait (at most 10 windows in a row) when no more than `activeReserve` of room is left, so its
 * arriving and returning clients take the last room first. With more room nothing is held
 * (work-conserving: a Standard request on an idle pool passes at once, whatever Critical does).
 * While a higher band is active or has requests waiting, a lower band's request never passes at
 * once: it queues and the cycle that releases it runs on the next turn, so higher-band requests
 * arriving in the same turn (a burst of both classes) are admitted first; and the lower band also
 * stops while the pool's projected KV use (saturation/projected-kv.ts: what the in-flight requests
 * will hold, not what the last scrape saw) reaches `activeKvLimit`, so the work it adds does not
 * grow into the KV the higher band's next requests need. With no higher band busy neither applies.
 * Sheddable requests (priority < 0) are refused with 429 instead of queued unless `queueSheddable`
 * is set.
 */
import { GatewayError } from "../errors.ts";
import { BUILTIN_REGISTRY } from "../plugins/builtin-registry.ts";
import type { Candidate } from "../scheduling/types.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";
import {
  type BandSettings,
  DEFAULT_ENGINE_PRIORITY_USAGE_LIMIT,
  DEFAULT_PRIORITY_USAGE_LIMIT,
  type FlowControlSettings,
} from "./config.ts";
import type { FlowControlMetrics, FlowControlSource, QueueOutcome } from "./metrics.ts";
import { PriorityBand } from "./priority-band.ts";
import { QueuedRequest } from "./queued-request.ts";
import { DrainRate } from "./retry-after.ts";
import { projectedKvUse } from "./saturation/projected-kv.ts";
import type { Admitter, FlowRequest, SaturationDetector } from "./types.ts";

export interface FlowControllerOptions {
  readonly settings: FlowControlSettings;
  /** The pool's current candidates, read at every admission and dispatch cycle. */
  readonly candidates: () => readonly Candidate[];
  /** Overrides the detector named in settings. */
  readonly detector?: SaturationDetector;
  /** Clock, timeouts (TTL, reclaim window) and next-turn cycles; default REAL_TIMERS. */
  readonly timers?: Timers;
  readonly metrics?: FlowControlMetrics;
  /** The `inference_pool` metric label. */
  readonly poolName?: string;
  /**
   * The pool's servers schedule by vLLM's `priority` (engine-priority annotation): bands above 0
   * default to DEFAULT_ENGINE_PRIORITY_USAGE_LIMIT instead of DEFAULT_PRIORITY_USAGE_LIMIT.
   */
  readonly enginePriority?: boolean;
}

/** Counts for stats and tests. */
export interface FlowControllerStats {
  readonly queued: number;
  readonly bytes: number;
  readonly bands: readonly { priority: number; size: number; bytes: number }[];
}

/** A queued request with its waiter and its place in the arrival (TTL) list. */
class Waiter extends QueuedRequest {
  band: PriorityBand;
  resolve: () => void = noop;
  reject: (e: GatewayError) => void = noop;
  onAbort: () => void = noop;
  /** False once dispatched or evicted. */
  waiting = true;
  olderNext: Waiter | undefined = undefined;
  olderPrev: Waiter | undefined = undefined;

  constructor(request: FlowRequest, seq: number, now: number, deadline: number, band: PriorityBand) {
    super(request, seq, now, deadline);
    this.band = band;
  }
}

function noop(): void {}

/** A band held back by higher bands' activity passes after this many reclaim windows in a row. */
const HOLD_CAP_WINDOWS = 10;

export class FlowController implements Admitter, FlowControlSource {
  readonly poolName: string;
  readonly detector: SaturationDetector;
  private readonly settings: FlowControlSettings;
  private readonly candidates: () => readonly Candidate[];
  private readonly timers: Timers;
  private readonly metrics: FlowControlMetrics | undefined;
  private readonly untrack: () => void;
  /** Bands by descending priority, and by priority. */
  private readonly bands: PriorityBand[] = [];
  private readonly bandByPriority = new Map<number, PriorityBand>();
  private readonly drain = new DrainRate();
  private queued = 0;
  private bytes = 0;
  private seq = 0;
  /** Arrival-ordered list of all waiters (= deadline order, since the TTL is uniform). */
  private oldest: Waiter | undefined;
  private newest: Waiter | undefined;
  /** Handles from `timers`: the pending next-turn cycle, the TTL and the reclaim-window timeouts. */
  private cycle: unknown;
  private expiryTimer: unknown;
  private reclaimTimer: unknown;
  private closed = false;
  private readonly priorityLimit: number;

  constructor(options: FlowControllerOptions) {
    this.settings = options.settings;
    this.candidates = options.candidates;
    // The settings were resolved by parseFlowControl, so the detector builds.
    this.detector =
      options.detector ??
      BUILTIN_REGISTRY.create(options.settings.detector, "saturation-detector", "saturation detector");
    this.timers = options.timers ?? REAL_TIMERS;
    this.metrics = options.metrics;
    this.poolName = options.poolName ?? "";
    this.untrack = this.metrics?.track(this) ?? noop;
    this.priorityLimit = options.enginePriority
      ? DEFAULT_ENGINE_PRIORITY_USAGE_LIMIT
      : DEFAULT_PRIORITY_USAGE_LIMIT;
    for (const [priority, band] of this.settings.bands) this.bandFor(priority, band);
  }

  /** Resolves when the request may be scheduled; rejects with 429 (shed, queue full) or 503 (TTL, client gone). */
  admit(request: FlowRequest): Promise<void> {
    const now = this.timers.now();
    if (this.closed) return Promise.reject(new GatewayError("noEndpoint", "the pool is shutting down"));
    if (request.signal.aborted) {
      this.observe(request.priority, "evicted_client_gone", 0);
      return Promise.reject(new GatewayError("queueTimeout", "client disconnected before admission"));
    }
    const band = this.bandFor(request.priority);
    const saturation = this.saturation(now);
    const limit = this.limitOf(band, now);
    const higherBusy = this.higherBandBusy(band, now);
    const room = this.hasRoom(band, saturation, now, limit, higherBusy);
    if (
      room &&
      !higherBusy &&
      (this.cycle === undefined || request.onAdmitted !== undefined) &&
      this.waitingAtOrAbove(request.priority) === 0 &&
      this.reclaimedUntil(band, now, limit - saturation) <= now
    ) {
      this.observe(request.priority, "dispatched", 0);
      this.released(band, now, request.onAdmitted === undefined);
      request.onAdmitted?.();
      return Promise.resolve();
    }
    if (!room && this.sheds(band)) {
      this.observe(request.priority, "rejected_shed", 0);
      return Promise.reject(this.shedError());
    }
    const full = this.capacityProblem(band, request.bytes);
    if (full) {
      this.observe(request.priority, "rejected_capacity", 0);
      return Promise.reject(
        new GatewayError("queueFull", `the flow-control queue is full (${full}); retry later`, {
          retryAfterSeconds: this.drain.retryAfterSeconds(this.queued),
        }),
      );
    }
    const ttl = this.settings.defaultRequestTTLMs;
    const waiter = new Waiter(request, this.seq++, now, ttl > 0 ? now + ttl : Number.POSITIVE_INFINITY, band);
    const promise = new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    waiter.onAbort = () => {
      if (waiter.waiting) this.evict(waiter, "evicted_client_gone", "client disconnected while queued");
    };
    request.signal.addEventListener("abort", waiter.onAbort, { once: true });
    band.add(waiter);
    this.link(waiter);
    this.queued++;
    this.bytes += request.bytes;
    if (ttl > 0) this.armExpiry(now);
    request.onQueued?.();
    // Yielding to a busy higher band: this turn's arrivals of that band pass first.
    if (higherBusy && room) this.cycle ??= this.timers.nextTurn(this.dispatchCycle);
    else this.notify();
    return promise;
  }

  /**
   * Runs a dispatch cycle now unless one is already pending. Called on metrics refresh and on
   * completion (with the finished request's priority: lower bands then wait `reclaimWindow`).
   */
  notify(completedPriority?: number): void {
    if (completedPriority !== undefined) {
      const band = this.bandByPriority.get(completedPriority);
      if (band) band.lastCompletionAt = this.timers.now();
    }
    if (this.cycle === undefined) this.dispatchCycle();
  }

  /** Current pool saturation from the detector (>= 1 saturated; Infinity with no endpoints). */
  saturation(now: number = this.timers.now()): number {
    return this.detector.saturation(this.candidates(), now);
  }

  stats(): FlowControllerStats {
    return {
      queued: this.queued,
      bytes: this.bytes,
      bands: this.bands.map((b) => ({ priority: b.priority, size: b.size, bytes: b.bytes })),
    };
  }

  snapshot(): { bands: readonly { priority: number; size: number; bytes: number }[]; saturation: number } {
    return { bands: this.stats().bands, saturation: this.saturation() };
  }

  flowSizes(): { priority: number; flows: { flowId: string; size: number }[] }[] {
    return this.bands.map((b) => ({ priority: b.priority, flows: b.flowSizes() }));
  }

  /** Rejects every waiting request with 503 and stops timers and metrics (pool removed, shutdown). */
  close(): void {
    this.closed = true;
    while (this.oldest) this.evict(this.oldest, "evicted_shutdown", "the pool is shutting down");
    if (this.cycle !== undefined) this.timers.cancelTurn(this.cycle);
    if (this.expiryTimer !== undefined) this.timers.clearTimeout(this.expiryTimer);
    if (this.reclaimTimer !== undefined) this.timers.clearTimeout(this.reclaimTimer);
    this.cycle = undefined;
    this.expiryTimer = undefined;
    this.reclaimTimer = undefined;
    this.untrack();
  }

  /**
   * Releases waiting requests while there is room: those charged at admission one after another
   * (each release seen by the next check), one not so charged and then the rest on the next turn.
   */
  private readonly dispatchCycle = (): void => {
    this.cycle = undefined;
    while (this.queued > 0 && this.cycle === undefined && this.releaseOne());
  };

  /** One step of a cycle: releases the next request if any may pass now. False when none may. */
  private releaseOne(): boolean {
    const now = this.timers.now();
    const saturation = this.saturation(now);
    let higherActive = false;
    for (const band of this.bands) {
      const limit = band.usageLimit - (higherActive ? this.settings.activeReserve : 0);
      const guarded = higherActive;
      higherActive ||= this.isActive(band, now);
      if (band.size === 0) continue;
      // Higher bands here are empty or passed: only their activity guards this one.
      if (saturation >= limit || (guarded && !this.kvRoom())) {
        this.shedWaitingSheddable(saturation, now);
        return false; // head-of-line: nothing lower may pass
      }
      const until = this.reclaimedUntil(band, now, limit - saturation);
      if (until > now) {
        // A higher band just freed room its clients are about to take again: hold the cycle.
        this.reclaimTimer ??= this.timers.setTimeout(this.reclaimEnded, until - now);
        return false;
      }
      const waiter = band.popNext() as Waiter;
      this.settle(waiter, "dispatched", now);
      const onAdmitted = waiter.request.onAdmitted;
      this.released(band, now, onAdmitted === undefined);
      onAdmitted?.();
      waiter.resolve();
      return true;
    }
    return false;
  }

  /** True when the band's requests are refused rather than queued while it is saturated. */
  private sheds(band: PriorityBand): boolean {
    return band.priority < 0 && !this.settings.queueSheddable;
  }

  /** Refuses sheddable requests that were queued while there was room and now face saturation. */
  private shedWaitingSheddable(saturation: number, now: number): void {
    for (const band of this.bands) {
      if (!this.sheds(band) || this.hasRoom(band, saturation, now)) continue;
      for (let w = band.popNext() as Waiter | undefined; w; w = band.popNext() as Waiter | undefined) {
        this.settle(w, "rejected_shed", this.timers.now());
        w.reject(this.shedError());
      }
    }
  }

  private shedError(): GatewayError {
    return new GatewayError(
      "shed",
      "the pool is saturated and sheddable requests are not queued; retry later",
      {
        retryAfterSeconds: this.drain.retryAfterSeconds(this.queued),
      },
    );
  }

  /**
   * Bookkeeping of a release. `awaitTurn`: the request is accounted only in its promise's
   * continuation, so the rest of this turn belongs to its caller and the next release waits for
   * the cycle scheduled here.
   */
  private released(band: PriorityBand, now: number, awaitTurn: boolean): void {
    band.lastDispatchAt = now;
    band.heldSince = undefined;
    this.drain.record(now);
    if (awaitTurn) this.cycle ??= this.timers.nextTurn(this.dispatchCycle);
  }

  private evict(waiter: Waiter, outcome: QueueOutcome, message: string): void {
    waiter.band.remove(waiter);
    this.settle(waiter, outcome, this.timers.now());
    waiter.reject(new GatewayError(outcome === "evicted_shutdown" ? "noEndpoint" : "queueTimeout", message));
  }

  /** Bookkeeping shared by dispatch and eviction (the item is already out of its band). */
  private settle(waiter: Waiter, outcome: QueueOutcome, now: number): void {
    // The abort listener stays (removing it costs more than the whole enqueue); it checks `waiting`.
    waiter.waiting = false;
    this.unlink(waiter);
    this.queued--;
    this.bytes -= waiter.request.bytes;
    if (this.queued === 0 && this.expiryTimer !== undefined) {
      // Nothing waits: no TTL timer left behind (every request has a TTL by default).
      this.timers.clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    this.observe(waiter.request.priority, outcome, (now - waiter.enqueuedAt) / 1000);
  }

  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const now = this.timers.now();
    while (this.oldest && this.oldest.deadline <= now) {
      const w = this.oldest;
      const ttl = this.settings.defaultRequestTTLMs;
      this.evict(
        w,
        "evicted_ttl",
        `request waited ${(now - w.enqueuedAt) / 1000}s in the queue (TTL ${ttl / 1000}s)`,
      );
    }
    this.armExpiry(now);
  };

  private armExpiry(now: number): void {
    if (this.expiryTimer !== undefined || !this.oldest || this.oldest.deadline === Number.POSITIVE_INFINITY)
      return;
    this.expiryTimer = this.timers.setTimeout(this.expire, Math.max(0, this.oldest.deadline - now));
  }

  private link(w: Waiter): void {
    w.olderPrev = this.newest;
    if (this.newest) this.newest.olderNext = w;
    else this.oldest = w;
    this.newest = w;
  }

  private unlink(w: Waiter): void {
    if (w.olderPrev) w.olderPrev.olderNext = w.olderNext;
    else this.oldest = w.olderNext;
    if (w.olderNext) w.olderNext.olderPrev = w.olderPrev;
    else this.newest = w.olderPrev;
    w.olderPrev = undefined;
    w.olderNext = undefined;
  }

  private readonly reclaimEnded = (): void => {
    this.reclaimTimer = undefined;
    this.notify();
  };

  /**
   * Until when (clock ms) a higher band's recent dispatch or completion holds this band back
   * (<= now = free): its clients are arriving, or about to send their next request. Work-conserving:
   * only while the room left below the band's limit (`room`) is no more than the active reserve;
   * with more room than that both fit and nothing is held. A band held for HOLD_CAP_WINDOWS
   * windows in a row is let through (the usage limit still applies).
   */
  private reclaimedUntil(band: PriorityBand, now: number, room: number): number {
    if (room > this.settings.activeReserve) return Number.NEGATIVE_INFINITY;
    const window = this.settings.reclaimWindowMs;
    let until = Number.NEGATIVE_INFINITY;
    for (const b of this.bands) {
      if (b.priority <= band.priority) break;
      const end = Math.max(b.lastCompletionAt, b.lastDispatchAt) + window;
      if (end > now && end > until) until = end;
    }
    if (until <= now) return until;
    band.heldSince ??= now;
    return now - band.heldSince >= HOLD_CAP_WINDOWS * window ? Number.NEGATIVE_INFINITY : until;
  }

  /** Below the band's limit, and below activeKvLimit's projected KV when a higher band is busy. */
  private hasRoom(
    band: PriorityBand,
    saturation: number,
    now: number,
    limit = this.limitOf(band, now),
    higherBusy = this.higherBandBusy(band, now),
  ): boolean {
    return saturation < limit && (!higherBusy || this.kvRoom());
  }

  /** True while a band above this one is active or has requests waiting. */
  private higherBandBusy(band: PriorityBand, now: number): boolean {
    for (const b of this.bands) {
      if (b.priority <= band.priority) break;
      if (b.size > 0 || this.isActive(b, now)) return true;
    }
    return false;
  }

  /** True while the pool's projected KV use is below `activeKvLimit` (or it is off, or unknown). */
  private kvRoom(): boolean {
    const limit = this.settings.activeKvLimit;
    if (limit <= 0) return true;
    const use = projectedKvUse(this.candidates());
    return use === undefined || use < limit;
  }

  /** A band is active while it dispatched within the active window. */
  private isActive(band: PriorityBand, now: number): boolean {
    return now - band.lastDispatchAt <= this.settings.activeWindowMs;
  }

  /** The band's usage limit, less the active reserve when a higher band is active. */
  private limitOf(band: PriorityBand, now: number): number {
    for (const b of this.bands) {
      if (b.priority <= band.priority) break;
      if (this.isActive(b, now)) return band.usageLimit - this.settings.activeReserve;
    }
    return band.usageLimit;
  }

  private waitingAtOrAbove(priority: number): number {
    let n = 0;
    for (const b of this.bands) {
      if (b.priority < priority) break;
      n += b.size;
    }
    return n;
  }

  /** Which limit a new request of `bytes` would break, or undefined when it fits. */
  private capacityProblem(band: PriorityBand, bytes: number): string | undefined {
    const s = this.settings;
    if (s.maxRequests > 0 && this.queued + 1 > s.maxRequests) return `${s.maxRequests} requests in all bands`;
    if (s.maxBytes > 0 && this.bytes + bytes > s.maxBytes) return `${s.maxBytes} bytes in all bands`;
    const b = band.settings;
    if (b.maxRequests > 0 && band.size + 1 > b.maxRequests)
      return `${b.maxRequests} requests at priority ${band.priority}`;
    if (b.maxBytes > 0 && band.bytes + bytes > b.maxBytes)
      return `${b.maxBytes} bytes at priority ${band.priority}`;
    return undefined;
  }

  /** The band of a priority, created from the default (or default negative) band on first use. */
  private bandFor(priority: number, configured?: BandSettings): PriorityBand {
    const existing = this.bandByPriority.get(priority);
    if (existing) return existing;
    const settings =
      configured ??
      this.settings.bands.get(priority) ??
      (priority < 0 ? this.settings.defaultNegativeBand : this.settings.defaultBand);
    const band = new PriorityBand(priority, settings, this.priorityLimit);
    let i = 0;
    while (i < this.bands.length && this.bands[i]!.priority > priority) i++;
    this.bands.splice(i, 0, band);
    this.bandByPriority.set(priority, band);
    return band;
  }

  private observe(priority: number, outcome: QueueOutcome, seconds: number): void {
    this.metrics?.observe(this.poolName, priority, outcome, seconds);
  }
}
