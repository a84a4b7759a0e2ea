/**
 * Blocks the gateway just sent to an endpoint and whose KV events have not arrived yet. A server
 * publishes BlockStored only once it computed the prompt, which in a burst is long after the next
 * decisions are made; without this, every request of a burst would see an empty cache everywhere
 * and a group would be spread over every server. An entry counts until the server's events show
 * the block (then the events rule, including its later removal) or until it expires (ttlMs).
 * Bounded: beyond maxEntries the oldest go first; expired keys are dropped a few per add.
 */
import { RecencyMap } from "./recency-map.ts";
import type { ResidentBlocks } from "./resident-blocks.ts";

export class SpeculativeBlocks {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** key → expiry (ms), in expiry order (same TTL: the order the keys were last sent in). */
  readonly #expires = new RecencyMap<number>();

  constructor(ttlMs: number, maxEntries: number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#expires.size;
  }

  /** The request's blocks were sent at `now`. */
  add(keys: readonly number[], now: number): void {
    const until = now + this.#ttlMs;
    const expires = this.#expires;
    for (const k of keys) expires.set(k, until);
    // An expired key already counts as not held (leadingHeld reads its expiry), so dropping it only
    // frees memory: each add drops at most twice what it added, and the keys of a burst, which
    // expire together, are dropped over the next decisions instead of all in one.
    let budget = 2 * keys.length + 16;
    while (expires.size > this.#maxEntries) expires.deleteOldest();
    while (budget-- > 0 && expires.size > 0 && expires.oldestValue()! <= now) expires.deleteOldest();
  }

  /**
   * Leading keys held by the server (its events) or sent to it and not yet confirmed; a key the
   * events now show is dropped here, so the events alone decide about it from then on.
   */
  leadingHeld(keys: readonly number[], resident: ResidentBlocks, now: number): number {
    let n = 0;
    for (; n < keys.length; n++) {
      const k = keys[n]!;
      if (resident.has(k)) {
        if (this.#expires.size > 0) this.#expires.delete(k);
        continue;
      }
      const t = this.#expires.get(k);
      if (t === undefined || t <= now) break;
    }
    return n;
  }
}
