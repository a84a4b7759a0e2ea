/**
 * The approximate prefix-cache index: per endpoint, the block hashes it has been sent, aged out the
 * way the server's own LRU would age them, plus a reverse map hash → endpoints for fast matching.
 *
 * Aging is by tokens, not by entries: each endpoint has a token clock that advances by the tokens a
 * request makes the server allocate (its uncached prompt tokens plus its output). A request's blocks
 * are stamped with the clock after it; a block stamped s is still resident while clock − s < the
 * endpoint's capacity in tokens (its KV cache, num_gpu_blocks × block_size), which is what an LRU of
 * that many tokens keeps. Entries are held in last-use order (a RecencyMap: a plain Map iterated
 * from its oldest entry walks every deleted one), so aging out is popping the oldest. An
 * entry cap of capacity ÷ tokens per entry bounds memory even when the clock stands still; within a
 * request the tail goes first, as vLLM frees a request's blocks in reverse order.
 */

import { RecencyMap } from "../../../kvcache/recency-map.ts";

interface EndpointEntries<K> {
  /** hash → clock value at its last use, in last-use order (oldest first). */
  readonly stamps: RecencyMap<K>;
  /** Tokens the server allocated for requests this index saw, since the endpoint appeared. */
  clock: number;
}

/**
 * Block-hash index for one scheduler; updated with the endpoint actually chosen. K: the block key
 * (bigint text-block hashes in prefix-cache-scorer, numeric vLLM block keys in the precise one).
 */
export class PrefixIndex<K extends bigint | number = bigint> {
  /** Estimated tokens one entry (block) stands for. */
  readonly tokensPerEntry: number;
  readonly #endpoints = new Map<string, EndpointEntries<K>>();
  /**
   * hash → the endpoints holding it: the endpoint id itself while there is one (most blocks: a
   * request's own tail), a Set from the second on. One Set per block was most of the index's
   * objects, and so of the GC's marking work.
   */
  readonly #holders = new Map<K, string | Set<string>>();
  #size = 0;

  constructor(tokensPerEntry: number) {
    if (!(tokensPerEntry > 0)) throw new RangeError("tokensPerEntry must be positive");
    this.tokensPerEntry = tokensPerEntry;
  }

  /** Total entries over all endpoints. */
  get size(): number {
    return this.#size;
  }

  /** Entries held for one endpoint. */
  sizeOf(endpointId: string): number {
    return this.#endpoints.get(endpointId)?.stamps.size ?? 0;
  }

  /**
   * Records that `endpointId` was sent these blocks (in prefix order) by a request that makes it
   * allocate `newTokens` tokens, on a server whose cache holds `capacityTokens`; then ages out what
   * that server's LRU would have evicted.
   */
  add(endpointId: string, hashes: readonly K[], newTokens: number, capacityTokens: number): void {
    let ep = this.#endpoints.get(endpointId);
    if (ep === undefined) {
      ep = { stamps: new RecencyMap<K>(), clock: 0 };
      this.#endpoints.set(endpointId, ep);
    }
    const { stamps } = ep;
    if (Number.isFinite(newTokens) && newTokens > 0) ep.clock += newTokens;
    const now = ep.clock;
    // The request's blocks were last used when it finished. vLLM frees a request's blocks tail first,
    // so its prefix is the last to go: insert the tail first (older in Map order).
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      if (!stamps.set(h, now)) continue;
      this.#size++;
      const holders = this.#holders.get(h);
      if (holders === undefined) this.#holders.set(h, endpointId);
      else if (typeof holders !== "string") holders.add(endpointId);
      else if (holders !== endpointId) this.#holders.set(h, new Set([holders, endpointId]));
    }
    const capacity = Math.max(this.tokensPerEntry, capacityTokens);
    const maxEntries = Math.ceil(capacity / this.tokensPerEntry);
    const oldestKept = ep.clock - capacity;
    while (stamps.size > 0) {
      if (stamps.oldestValue()! > oldestKept && stamps.size <= maxEntries) break;
      this.#drop(stamps.deleteOldest()!, endpointId);
      this.#size--;
    }
  }

  /**
   * Endpoint id → how many leading blocks of `hashes` it holds consecutively (absent = 0).
   * Cost: O(matched blocks × holders), independent of the number of endpoints.
   */
  matchPrefix(hashes: readonly K[]): Map<string, number> {
    const matched = new Map<string, number>();
    const first = hashes.length > 0 ? this.#holders.get(hashes[0]!) : undefined;
    if (first === undefined) return matched;
    // Endpoints still matching, alive[0, live); shrinks in place block by block (usually to one or
    // two holders).
    const alive = typeof first === "string" ? [first] : Array.from(first);
    let live = alive.length;
    let i = 1;
    for (; i < hashes.length && live > 0; i++) {
      const holders = this.#holders.get(hashes[i]!);
      if (holders === undefined) break;
      let kept = 0;
      for (let j = 0; j < live; j++) {
        const id = alive[j]!;
        if (typeof holders === "string" ? holders === id : holders.has(id)) alive[kept++] = id;
        else matched.set(id, i);
      }
      live = kept;
    }
    for (let j = 0; j < live; j++) matched.set(alive[j]!, i);
    return matched;
  }

  /** Forgets an endpoint entirely (it left the pool). */
  removeEndpoint(endpointId: string): void {
    const ep = this.#endpoints.get(endpointId);
    if (ep === undefined) return;
    for (const h of ep.stamps.keys()) this.#drop(h, endpointId);
    this.#size -= ep.stamps.size;
    this.#endpoints.delete(endpointId);
  }

  #drop(hash: K, endpointId: string): void {
    const holders = this.#holders.get(hash);
    if (holders === undefined) return;
    if (typeof holders === "string") {
      if (holders === endpointId) this.#holders.delete(hash);
      return;
    }
    holders.delete(endpointId);
    if (holders.size === 1) this.#holders.set(hash, holders.values().next().value!);
    else if (holders.size === 0) this.#holders.delete(hash);
  }
}
