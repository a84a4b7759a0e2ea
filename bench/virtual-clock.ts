/**
 * A discrete-event clock for benchmarks that run the gateway's own code and simulated engines on
 * one virtual timeline (no CPU contention in the figures): events run in time order (ties in the
 * order they were scheduled), and it implements Timers, so a FlowController runs on it as is.
 */
import type { Timers } from "../src/timers.ts";

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Timers {
  #now = 0;
  #seq = 0;
  readonly #events: Event[] = [];

  now(): number {
    return this.#now;
  }

  /** Runs `fn` at virtual time `t` (ms; not before now). */
  at(t: number, fn: () => void): Event {
    const e: Event = { at: Math.max(t, this.#now), seq: this.#seq++, fn, cancelled: false };
    const q = this.#events;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const x = q[mid]!;
      if (x.at < e.at || (x.at === e.at && x.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, e);
    return e;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.at(this.#now + Math.max(0, ms), fn);
  }

  clearTimeout(handle: unknown): void {
    (handle as Event).cancelled = true;
  }

  nextTurn(fn: () => void): unknown {
    return this.at(this.#now, fn);
  }

  cancelTurn(handle: unknown): void {
    (handle as Event).cancelled = true;
  }

  /** Runs events until `done()` holds after one, none is left, or the clock passes `limitMs`. */
  run(done: () => boolean, limitMs: number): void {
    for (let e = this.#events.shift(); e !== undefined; e = this.#events.shift()) {
      if (e.cancelled) continue;
      this.#now = e.at;
      if (this.#now > limitMs) throw new Error(`virtual run still busy at ${limitMs} ms`);
      e.fn();
      if (done()) return;
    }
  }
}
