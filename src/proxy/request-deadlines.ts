/**
 * Request timeouts without a Node timer per request. A route's requests share one timeout, so
 * their deadlines arrive in order: one queue per duration, and one timer per queue, armed for the
 * earliest deadline still live. Starting a deadline appends a small entry; cancelling one marks it
 * (and drops it at once when it is first in line, as most are: requests end in about the order
 * they began). Each fires no earlier than its own deadline, as setTimeout would. Per request this
 * replaces a Timeout object, a timer-list insert and, when the last in-flight request of a
 * duration ends, that list's removal from Node's timer queue (~4 % of the proxy's JS time with
 * the seed's 24 h BackendTrafficPolicy, measured with --cpu-prof).
 */
import { REAL_TIMERS, type Timers } from "../timers.ts";

/** Node's timers on the monotonic clock (a wall-clock jump must not move a deadline). */
const MONOTONIC: Timers = { ...REAL_TIMERS, now: () => performance.now() };

/** A started deadline; cancel() is idempotent and does nothing once it fired. */
export interface Deadline {
  cancel(): void;
}

class Entry implements Deadline {
  readonly at: number;
  readonly fire: () => void;
  live = true;
  readonly #queue: DurationQueue;

  constructor(at: number, fire: () => void, queue: DurationQueue) {
    this.at = at;
    this.fire = fire;
    this.#queue = queue;
  }

  cancel(): void {
    if (!this.live) return;
    this.live = false;
    this.#queue.cancelled();
  }
}

/** The deadlines of one duration, in the order they started (so in deadline order). */
class DurationQueue {
  readonly #timers: Timers;
  #entries: Entry[] = [];
  /** Index of the first entry not yet dropped. */
  #head = 0;
  #live = 0;
  #timer: unknown;
  /** When the armed timer fires (Number.POSITIVE_INFINITY: none armed). */
  #armedFor = Number.POSITIVE_INFINITY;
  /** Inside #expire: a cancel from a firing callback only counts (the loop drops the entry). */
  #expiring = false;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  add(at: number, fire: () => void): Entry {
    const e = new Entry(at, fire, this);
    this.#entries.push(e);
    this.#live++;
    if (at < this.#armedFor) this.#arm(at);
    return e;
  }

  /** One entry was cancelled: drop the dead ones at the head; compact when most are dead. */
  cancelled(): void {
    this.#live--;
    if (this.#expiring) return;
    const entries = this.#entries;
    while (this.#head < entries.length && !entries[this.#head]!.live) this.#head++;
    const size = entries.length - this.#head;
    if (size === 0) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 || (size > 64 && this.#live * 2 < size)) {
      this.#entries = entries.slice(this.#head).filter((x) => x.live);
      this.#head = 0;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = this.#timers.setTimeout(this.#expire, Math.max(0, at - this.#timers.now()));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.#timers.now();
    const entries = this.#entries;
    this.#expiring = true;
    try {
      while (this.#head < entries.length) {
        const e = entries[this.#head]!;
        if (e.live && e.at > now) break;
        this.#head++;
        if (!e.live) continue;
        e.live = false;
        this.#live--;
        e.fire();
      }
    } finally {
      this.#expiring = false;
    }
    while (this.#head < entries.length && !entries[this.#head]!.live) this.#head++;
    if (this.#head >= this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else this.#arm(this.#entries[this.#head]!.at);
  };
}

/** Deadlines for any number of durations; one instance serves a whole server. */
export class RequestDeadlines {
  readonly #timers: Timers;
  readonly #queues = new Map<number, DurationQueue>();

  /** `timers`: Node's on performance.now() by default. */
  constructor(timers: Timers = MONOTONIC) {
    this.#timers = timers;
  }

  /** Calls `fire` once, `ms` from now, unless cancelled first. */
  start(ms: number, fire: () => void): Deadline {
    let q = this.#queues.get(ms);
    if (!q) {
      q = new DurationQueue(this.#timers);
      this.#queues.set(ms, q);
    }
    return q.add(this.#timers.now() + ms, fire);
  }
}
