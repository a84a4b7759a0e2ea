/**
 * The approximate prefix-cache index: per endpoint, an LRU of block hashes it has been sent
 * (capacity per endpoint), plus a reverse map hash → endpoints for fast matching.
 */

/** Block-hash index for one scheduler; updated with the endpoint actually chosen. */
export class PrefixIndex {
  readonly capacityPerEndpoint: number;
  /** endpoint id → its hashes in LRU order (oldest first; Map keeps insertion order). */
  readonly #lru = new Map<string, Map<bigint, true>>();
  readonly #holders = new Map<bigint, Set<string>>();
  #size = 0;

  constructor(capacityPerEndpoint: number) {
    this.capacityPerEndpoint = capacityPerEndpoint;
  }

  /** Total entries over all endpoints. */
  get size(): number {
    return this.#size;
  }

  /** Records that `endpointId` now holds these blocks (most recent last); evicts its oldest beyond capacity. */
  add(endpointId: string, hashes: readonly bigint[]): void {
    let lru = this.#lru.get(endpointId);
    if (lru === undefined) {
      lru = new Map();
      this.#lru.set(endpointId, lru);
    }
    for (const h of hashes) {
      if (lru.has(h)) {
        lru.delete(h);
        lru.set(h, true);
        continue;
      }
      lru.set(h, true);
      this.#size++;
      let holders = this.#holders.get(h);
      if (holders === undefined) {
        holders = new Set();
        this.#holders.set(h, holders);
      }
      holders.add(endpointId);
      if (lru.size > this.capacityPerEndpoint) {
        const oldest = lru.keys().next().value as bigint;
        lru.delete(oldest);
        this.#size--;
        this.#drop(oldest, endpointId);
      }
    }
  }

  /**
   * Endpoint id → how many leading blocks of `hashes` it holds consecutively (absent = 0).
   * Cost: O(matched blocks × holders), independent of the number of endpoints.
   */
  matchPrefix(hashes: readonly bigint[]): Map<string, number> {
    const matched = new Map<string, number>();
    const first = hashes.length > 0 ? this.#holders.get(hashes[0]!) : undefined;
    if (first === undefined) return matched;
    // Endpoints still matching; shrinks block by block (usually to one or two holders).
    let alive = [...first];
    let i = 1;
    for (; i < hashes.length && alive.length > 0; i++) {
      const holders = this.#holders.get(hashes[i]!);
      if (holders === undefined) break;
      const next: string[] = [];
      for (const id of alive) {
        if (holders.has(id)) next.push(id);
        else matched.set(id, i);
      }
      alive = next;
    }
    for (const id of alive) matched.set(id, i);
    return matched;
  }

  /** Forgets an endpoint entirely (it left the pool). */
  removeEndpoint(endpointId: string): void {
    const lru = this.#lru.get(endpointId);
    if (lru === undefined) return;
    for (const h of lru.keys()) this.#drop(h, endpointId);
    this.#size -= lru.size;
    this.#lru.delete(endpointId);
  }

  #drop(hash: bigint, endpointId: string): void {
    const holders = this.#holders.get(hash);
    if (holders === undefined) return;
    holders.delete(endpointId);
    if (holders.size === 0) this.#holders.delete(hash);
  }
}
