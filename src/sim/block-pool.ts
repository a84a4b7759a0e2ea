/**
 * The paged KV cache: a fixed pool of blocks with reference counts, an LRU free queue and a prefix
 * cache (block hash -> blocks). Freed blocks join the tail of the free queue and keep their hash until
 * they are handed out again (vLLM V1's BlockPool). As in vLLM, two blocks may hold the same hash (two
 * requests computed the same prefix at once): both stay cached, a lookup returns the first one cached,
 * and each is removed on its own when evicted. Only the engine calls it.
 */
export class BlockPool {
  readonly numBlocks: number;
  private readonly refCount: Int32Array;
  /** Hash key (blockHashKey) of each block, NaN when it holds none. */
  private readonly keyOf: Float64Array;
  /** External (64-bit) hash of each cached block, for KV events. */
  private readonly extOf: BigUint64Array;
  /**
   * Free blocks in LRU order as an intrusive doubly-linked list (O(1) pop, remove, append; a Map
   * would rescan the deleted entries at its head on every pop). Slot numBlocks is the sentinel.
   */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private freeCount: number;
  /** Hash key -> the block cached first under it. */
  private readonly cache = new Map<number, number>();
  /** Hash key -> further blocks cached under the same key (rare), in caching order. */
  private readonly duplicates = new Map<number, number[]>();
  /** External hashes of cached blocks evicted since the last takeEvicted(); null when not recorded. */
  private evicted: bigint[] | null;

  /** recordEvictions: keep the external hash of every evicted cached block (KV events). */
  constructor(numBlocks: number, recordEvictions = false) {
    this.numBlocks = numBlocks;
    this.refCount = new Int32Array(numBlocks);
    this.keyOf = new Float64Array(numBlocks).fill(Number.NaN);
    this.extOf = new BigUint64Array(numBlocks);
    this.next = new Int32Array(numBlocks + 1);
    this.prev = new Int32Array(numBlocks + 1);
    this.evicted = recordEvictions ? [] : null;
    const head = numBlocks;
    this.next[head] = head;
    this.prev[head] = head;
    this.freeCount = 0;
    for (let i = 0; i < numBlocks; i++) this.append(i);
  }

  /** Blocks not referenced by any request (cached-but-unused blocks count as free). */
  numFree(): number {
    return this.freeCount;
  }

  /** Blocks referenced by at least one request. */
  numUsed(): number {
    return this.numBlocks - this.freeCount;
  }

  /** The first cached block holding this hash key, if any. */
  lookup(key: number): number | undefined {
    return this.cache.get(key);
  }

  /** True if the block is unreferenced (so taking it as a cache hit consumes a free block). */
  isFree(block: number): boolean {
    return this.refCount[block] === 0;
  }

  /** Takes a reference on a cached block (a prefix-cache hit). */
  touch(block: number): void {
    if (this.refCount[block] === 0) this.unlink(block);
    this.refCount[block]!++;
  }

  /** Hands out the least recently freed block, evicting its cached hash. Caller checks numFree() first. */
  allocate(): number {
    const block = this.next[this.numBlocks]!;
    if (block === this.numBlocks)
      throw new Error("KV block pool exhausted (caller must check numFree first)");
    this.unlink(block);
    if (!Number.isNaN(this.keyOf[block]!)) this.uncache(block);
    this.refCount[block] = 1;
    return block;
  }

  /** Drops one reference; an unreferenced block goes to the tail of the free queue, keeping its hash. */
  release(block: number): void {
    const r = --this.refCount[block]!;
    if (r < 0) throw new Error(`KV block ${block} released twice`);
    if (r === 0) this.append(block);
  }

  /** Registers a full block under its hash (ext = the 64-bit hash events carry); a block is cached once. */
  cacheBlock(block: number, key: number, ext = 0n): void {
    if (!Number.isNaN(this.keyOf[block]!)) return;
    this.keyOf[block] = key;
    this.extOf[block] = ext;
    if (!this.cache.has(key)) this.cache.set(key, block);
    else {
      const more = this.duplicates.get(key);
      if (more === undefined) this.duplicates.set(key, [block]);
      else more.push(block);
    }
  }

  /**
   * vLLM's reset_prefix_cache: forgets every cached hash, only when no block is referenced.
   * Returns false (and changes nothing) while requests hold blocks.
   */
  resetPrefixCache(): boolean {
    if (this.numUsed() > 0) return false;
    this.cache.clear();
    this.duplicates.clear();
    this.keyOf.fill(Number.NaN);
    return true;
  }

  /** External hashes of the cached blocks evicted since the last call (empty unless recording). */
  takeEvicted(): bigint[] {
    const out = this.evicted;
    if (out === null || out.length === 0) return [];
    this.evicted = [];
    return out;
  }

  /** Fraction of blocks in use, 0..1 (vLLM: 1 - free/total). */
  usage(): number {
    return this.numBlocks === 0 ? 0 : 1 - this.freeCount / this.numBlocks;
  }

  private uncache(block: number): void {
    const key = this.keyOf[block]!;
    this.keyOf[block] = Number.NaN;
    const more = this.duplicates.get(key);
    if (this.cache.get(key) === block) {
      if (more === undefined) this.cache.delete(key);
      else {
        this.cache.set(key, more.shift()!);
        if (more.length === 0) this.duplicates.delete(key);
      }
    } else if (more !== undefined) {
      more.splice(more.indexOf(block), 1);
      if (more.length === 0) this.duplicates.delete(key);
    }
    this.evicted?.push(this.extOf[block]!);
  }

  private append(block: number): void {
    const head = this.numBlocks;
    const last = this.prev[head]!;
    this.next[last] = block;
    this.prev[block] = last;
    this.next[block] = head;
    this.prev[head] = block;
    this.freeCount++;
  }

  private unlink(block: number): void {
    const p = this.prev[block]!;
    const n = this.next[block]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.freeCount--;
  }
}
