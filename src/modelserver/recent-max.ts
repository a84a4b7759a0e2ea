/** The largest of the last `size` values recorded: a fixed ring, no allocation per record. */
export class RecentMax {
  readonly #ring: number[];
  #at = 0;

  constructor(size: number) {
    this.#ring = new Array<number>(size).fill(0);
  }

  /** Records `value` (a negative one as 0) and returns the largest of the window. */
  record(value: number): number {
    const ring = this.#ring;
    ring[this.#at] = Math.max(0, value);
    this.#at = (this.#at + 1) % ring.length;
    let most = 0;
    for (const v of ring) if (v > most) most = v;
    return most;
  }
}

/** Scrapes that EndpointMetrics.answeredAtRecentScrapes looks back over (about a second at 50 ms). */
export const ANSWERED_WINDOW = 20;
