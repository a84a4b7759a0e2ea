/**
 * A map from keys to numbers that remembers the order keys were last set in, with the oldest
 * found in O(1): what a Map used as an LRU or FIFO (delete + set to move a key last, iterate from
 * the first to evict) does, without its cost. V8 leaves a deleted Map entry in the table as a hole
 * until the table is rehashed, and iterating from the first entry walks every hole: evicting the
 * oldest of 200,000 entries that way cost 18 µs at the median and 76 µs at p99 (per eviction, Node
 * 20), and the prefix indexes evict on every decision.
 *
 * Here the Map holds key → sequence number of the key's latest set, and a ring holds every set
 * (key, value) at its sequence number, oldest first. A ring entry whose key was set again or deleted
 * since is stale and skipped when it reaches the front. The ring grows by doubling; when stale
 * entries are most of it (over three quarters), it is compacted instead (live entries renumbered in
 * order), so it holds at most about eight entries per live key.
 *
 * delete() does not delete from the Map: it marks the key deleted (−1 − its sequence number), and
 * the key leaves the Map when that ring entry reaches the front. A key deleted and set again at once
 * (a block confirmed, then sent again) is then one in-place write, not a Map delete + insert: V8
 * keeps a deleted entry in its bucket's chain until the table is rehashed, so deleting and
 * re-inserting the same keys made their chains grow without bound (3.7 ms for 47 keys in a Map of
 * 135,000, Node 20).
 */
export class RecencyMap<K> {
  /** key → sequence number of its latest set; −1 − that number once deleted. */
  readonly #seqs = new Map<K, number>();
  /** Keys by slot; a slot past the front keeps its old key until overwritten (storing undefined would box every number key). */
  #keys: K[];
  #values: Float64Array;
  #mask: number;
  /** Sequence numbers of the oldest ring entry and of the next set. */
  #head = 0;
  #tail = 0;
  /** Keys held (not deleted). */
  #live = 0;

  /** `initialCapacity`: ring entries to start with (rounded up to a power of two). */
  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.#keys = new Array<K>(cap);
    this.#values = new Float64Array(cap);
    this.#mask = cap - 1;
  }

  /** Keys held. */
  get size(): number {
    return this.#live;
  }

  has(key: K): boolean {
    return (this.#seqs.get(key) ?? -1) >= 0;
  }

  /** The value of the key's latest set; undefined when not held. */
  get(key: K): number | undefined {
    const seq = this.#seqs.get(key) ?? -1;
    return seq < 0 ? undefined : this.#values[seq & this.#mask];
  }

  /** Sets the key's value and makes it the newest. Returns true when the key was not held. */
  set(key: K, value: number): boolean {
    if (this.#tail - this.#head > this.#mask) this.#makeRoom();
    const seq = this.#tail++;
    this.#keys[seq & this.#mask] = key;
    this.#values[seq & this.#mask] = value;
    const prev = this.#seqs.get(key) ?? -1;
    this.#seqs.set(key, seq);
    if (prev >= 0) return false;
    this.#live++;
    return true;
  }

  /** Changes a held key's value where it stands (not made newest). False when not held. */
  update(key: K, value: number): boolean {
    const seq = this.#seqs.get(key) ?? -1;
    if (seq < 0) return false;
    this.#values[seq & this.#mask] = value;
    return true;
  }

  delete(key: K): boolean {
    const seq = this.#seqs.get(key) ?? -1;
    if (seq < 0) return false;
    this.#seqs.set(key, -1 - seq);
    this.#live--;
    return true;
  }

  /** The oldest key held (least recently set); undefined when empty. */
  oldestKey(): K | undefined {
    return this.#skipStale() ? this.#keys[this.#head & this.#mask] : undefined;
  }

  /** The oldest key's value; undefined when empty. */
  oldestValue(): number | undefined {
    return this.#skipStale() ? this.#values[this.#head & this.#mask] : undefined;
  }

  /** Removes the oldest key; returns it (undefined when empty). */
  deleteOldest(): K | undefined {
    if (!this.#skipStale()) return undefined;
    const key = this.#keys[this.#head & this.#mask]!;
    this.#head++;
    this.#seqs.delete(key);
    this.#live--;
    return key;
  }

  /** The keys held, in no particular order. */
  *keys(): IterableIterator<K> {
    for (const [key, seq] of this.#seqs) if (seq >= 0) yield key;
  }

  clear(): void {
    this.#seqs.clear();
    this.#head = this.#tail = this.#live = 0;
  }

  /** Drops stale entries from the front; false when nothing is held. */
  #skipStale(): boolean {
    while (this.#head < this.#tail) {
      const key = this.#keys[this.#head & this.#mask]!;
      const seq = this.#seqs.get(key);
      if (seq === this.#head) return true;
      if (seq === -1 - this.#head) this.#seqs.delete(key); // its deletion reached the front
      this.#head++;
    }
    return false;
  }

  /**
   * The ring is full. Mostly stale (fewer than a quarter live): compacted, live entries renumbered
   * (one Map write each, after at least three times as many sets). Otherwise doubled, every entry
   * keeping its number (slot = number & mask), so the Map is not touched.
   */
  #makeRoom(): void {
    const oldKeys = this.#keys;
    const oldValues = this.#values;
    const oldMask = this.#mask;
    const cap = oldMask + 1;
    const compact = this.#live * 4 < cap;
    const newCap = compact ? cap : cap * 2;
    this.#keys = new Array<K>(newCap);
    this.#values = new Float64Array(newCap);
    this.#mask = newCap - 1;
    if (!compact) {
      for (let s = this.#head; s < this.#tail; s++) {
        this.#keys[s & this.#mask] = oldKeys[s & oldMask]!;
        this.#values[s & this.#mask] = oldValues[s & oldMask]!;
      }
      return;
    }
    let seq = 0;
    for (let s = this.#head; s < this.#tail; s++) {
      const key = oldKeys[s & oldMask]!;
      const at = this.#seqs.get(key);
      if (at === -1 - s) this.#seqs.delete(key);
      if (at !== s) continue;
      this.#keys[seq] = key;
      this.#values[seq] = oldValues[s & oldMask]!;
      this.#seqs.set(key, seq++);
    }
    this.#head = 0;
    this.#tail = seq;
  }
}
