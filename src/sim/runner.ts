import { performance } from "node:perf_hooks";
import type { KvCacheEvent } from "../kvcache/kv-events.ts";
import type { Engine, StepPlan } from "./engine.ts";
import type { FinishReason, NewRequest } from "./engine-types.ts";
import type { Sequence } from "./sequence.ts";

/** Receives a request's tokens as the steps that compute them end (word indexes OUTPUT_WORDS). */
export interface TokenSink {
  onToken(word: number, finish: FinishReason | null): void;
}

/** How far (real ms) the engine clock may fall behind real time and still catch up (steps run
 *  back to back until it has); beyond that the lost time is skipped (the simulated GPU "stalls"). */
const MAX_LAG_REAL_MS = 250;

/**
 * Drives an Engine with real timers. The simulated clock runs timeScale times faster than real time;
 * back-to-back steps are chained on the simulated clock (a late timer is made up by the next sleep),
 * so simulated latencies do not inflate with timer slack. Idle when there is no work.
 */
export class EngineRunner {
  readonly engine: Engine;
  readonly timeScale: number;
  private readonly origin = performance.now();
  private readonly sinks = new Map<Sequence, TokenSink>();
  private active = false;
  private closed = false;
  private lastEnd = 0;
  /** Simulated ms skipped because this process fell more than MAX_LAG_REAL_MS behind (CPU starved). */
  lostMs = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Receives each step's KV-cache events when the step ends (set when the replica publishes them). */
  onKvEvents: ((events: KvCacheEvent[]) => void) | null = null;

  constructor(engine: Engine, timeScale: number) {
    this.engine = engine;
    this.timeScale = timeScale;
  }

  /** Simulated time now, ms since the runner started. */
  now(): number {
    return (performance.now() - this.origin) * this.timeScale;
  }

  /** Queues a request; sink gets its tokens. */
  submit(req: NewRequest, sink: TokenSink): Sequence {
    const seq = this.engine.add(req, Math.max(this.now(), this.lastEnd));
    this.sinks.set(seq, sink);
    this.wake();
    return seq;
  }

  /** Aborts a request (client went away); its sink gets nothing more. */
  abort(seq: Sequence): void {
    this.sinks.delete(seq);
    this.engine.abort(seq, Math.max(this.now(), this.lastEnd));
  }

  /** Stops stepping; pending requests get no more tokens. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = null;
  }

  private wake(): void {
    if (this.active || this.closed) return;
    this.active = true;
    this.timer = setImmediate(() => this.step(Math.max(this.now(), this.lastEnd)));
  }

  private step(start: number): void {
    this.timer = null;
    if (this.closed) return;
    const plan = this.engine.schedule(start);
    if (plan === null) {
      this.active = false;
      return;
    }
    const end = start + plan.durationMs;
    const wait = this.origin + end / this.timeScale - performance.now();
    if (wait >= 1) this.timer = setTimeout(() => this.finish(plan, end), wait);
    else this.timer = setImmediate(() => this.finish(plan, end));
  }

  private finish(plan: StepPlan, end: number): void {
    this.timer = null;
    if (this.closed) return;
    this.lastEnd = end;
    const events = this.engine.complete(plan, end);
    if (this.onKvEvents !== null) {
      const kv = this.engine.takeEvents();
      if (kv.length > 0) this.onKvEvents(kv);
    }
    for (const ev of events) {
      const sink = this.sinks.get(ev.seq);
      if (sink === undefined) continue;
      if (ev.finish !== null) this.sinks.delete(ev.seq);
      sink.onToken(ev.word, ev.finish);
    }
    if (!this.engine.hasWork()) {
      this.active = false;
      return;
    }
    const floor = this.now() - MAX_LAG_REAL_MS * this.timeScale;
    if (floor > end) this.lostMs += floor - end;
    this.step(Math.max(end, floor));
  }
}
