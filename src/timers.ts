/**
 * Time and timers, injectable so that code which waits (the flow controller) runs on a fake clock
 * in tests. A leaf module: every layer may import it. REAL_TIMERS are Node's own.
 */

/** The clock and the three ways to wait that the gateway's queueing uses. Handles are opaque. */
export interface Timers {
  /** Milliseconds since the epoch (Date.now's clock, which EndpointMetrics.updatedAt also uses). */
  now(): number;
  /** Calls `fn` once, `ms` (>= 0) from now; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Calls `fn` on the next event-loop turn: after every promise callback of this turn has run
   * (Node's setImmediate). The handle cancels it.
   */
  nextTurn(fn: () => void): unknown;
  cancelTurn(handle: unknown): void;
}

/** Date.now, setTimeout/clearTimeout, setImmediate/clearImmediate. */
export const REAL_TIMERS: Timers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  nextTurn: (fn) => setImmediate(fn),
  cancelTurn: (handle) => clearImmediate(handle as NodeJS.Immediate),
};
