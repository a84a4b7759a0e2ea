/** A counting semaphore with FIFO waiters; `limit` null means unlimited. Used per traffic class. */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  #waiters: Array<() => void> = [];
  #head = 0;

  constructor(limit: number | null) {
    this.#limit = limit ?? Number.POSITIVE_INFINITY;
  }

  /** Resolves when a slot is held; call `release()` exactly once afterwards. */
  acquire(): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Frees a slot, handing it to the oldest waiter if any. */
  release(): void {
    if (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head]!;
      this.#waiters[this.#head++] = noop;
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      next();
    } else {
      this.#active--;
    }
  }
}

const noop = () => {};
