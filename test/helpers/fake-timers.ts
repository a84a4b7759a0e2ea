/**
 * A fake clock for code that takes a Timers (src/timers.ts): time moves only when the test says
 * so, and "next turn" callbacks run only on turn(). Promise callbacks between turns run for real
 * (a real setImmediate lets them drain; no wall-clock time is waited for).
 */
import type { Timers } from "../../src/timers.ts";

/** Lets every pending promise callback run; the fake clock does not move. */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeTimers implements Timers {
  #now: number;
  #seq = 0;
  readonly #timeouts = new Map<number, { at: number; fn: () => void }>();
  readonly #turns = new Map<number, () => void>();

  /** `start`: the clock's first reading, ms. */
  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#seq;
    this.#timeouts.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timeouts.delete(handle as number);
  }

  nextTurn(fn: () => void): number {
    const id = ++this.#seq;
    this.#turns.set(id, fn);
    return id;
  }

  cancelTurn(handle: unknown): void {
    this.#turns.delete(handle as number);
  }

  /** Pending timeouts (not yet fired or cleared). */
  get timeouts(): number {
    return this.#timeouts.size;
  }

  /**
   * Runs `n` event-loop turns: each runs the callbacks queued for it by the turn before, each
   * followed by the promise callbacks it caused (as Node drains microtasks after each immediate).
   */
  async turns(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      // A turn starts once the current one's promise callbacks have run.
      await flushPromises();
      const due = [...this.#turns.values()];
      this.#turns.clear();
      for (const fn of due) {
        fn();
        await flushPromises();
      }
    }
  }

  /** Runs turns until none is queued; throws after `max` (a cycle that never ends). */
  async settle(max = 100_000): Promise<void> {
    await flushPromises();
    for (let i = 0; this.#turns.size > 0; i++) {
      if (i === max) throw new Error(`still turning after ${max} turns`);
      await this.turns();
    }
  }

  /** Moves the clock `ms` forward, firing due timeouts in time order, each followed by settle(). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timeouts) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.#timeouts.delete(next[0]);
      this.#now = next[1].at;
      await flushPromises();
      next[1].fn();
      await this.settle();
    }
    this.#now = target;
  }
}
