/**
 * One-shot cancellation for the request path: the part of AbortSignal the core uses (`aborted`,
 * `addEventListener("abort")`), and a cheap implementation of it. Hand-written because an
 * AbortController per request costs ~1 µs of EventTarget machinery (bench/core-path.ts); any
 * AbortSignal is accepted wherever an AbortLike is.
 */

/** What the core reads of a cancellation signal. AbortSignal satisfies it. */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A signal and its trigger in one object; listeners run once, in order, on the first abort(). */
export class Cancellation implements AbortLike {
  aborted = false;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.#listeners) this.#listeners.push(listener);
    else this.#listeners = [listener];
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const list = this.#listeners;
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const list = this.#listeners;
    this.#listeners = undefined;
    if (list) for (const fn of list) fn();
  }
}

/** A signal that never aborts (requests nobody can cancel, e.g. benchmarks). */
export const NEVER: AbortLike = {
  aborted: false,
  addEventListener() {},
  removeEventListener() {},
};
