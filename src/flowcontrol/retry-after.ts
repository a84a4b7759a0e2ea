/** Estimates a `Retry-After` (whole seconds) from how fast the queue has been draining. */

/** Smoothed dispatch-rate tracker; one per controller. */
export class DrainRate {
  /** Exponentially smoothed interval between dispatches (ms); undefined until two dispatches. */
  private intervalMs: number | undefined;
  private last: number | undefined;

  /** Records one dispatch at clock time `now` (ms). */
  record(now: number): void {
    if (this.last !== undefined) {
      const dt = Math.max(0, now - this.last);
      this.intervalMs = this.intervalMs === undefined ? dt : this.intervalMs * 0.9 + dt * 0.1;
    }
    this.last = now;
  }

  /** Seconds until `ahead` requests have drained at the recent rate, clamped to [1, 60]. */
  retryAfterSeconds(ahead: number): number {
    const perRequest = this.intervalMs ?? 1000;
    const s = Math.ceil((Math.max(1, ahead) * perRequest) / 1000);
    return Math.min(60, Math.max(1, s));
  }
}
