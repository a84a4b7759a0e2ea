/**
 * The paged KV cache: a fixed pool of blocks with reference counts, an LRU free queue and a prefix
 * cache (block hash -> block). Freed blocks join the tail of the free queue and keep their hash until
 * they are handed out again (vLLM V1's BlockPool). Only the engine calls it.
 */
export class BlockPool {
  readonly numBlocks: number;
  private readonly refCount: Int32Array;
  private readonly hashOf: Float64Array;
  /**
   * Free blocks in LRU order as an intrusive doubly-linked list (O(1) pop, remove, append; a Map
   * would rescan the deleted entries at its head on every pop). Slot numBlocks is the sentinel.
   */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private freeCount: number;
  private readonly cache = new Map<number, number>();

  constructor(numBlocks: number) {
    this.numBlocks = numBlocks;
    this.refCount = new Int32Array(numBlocks);
    this.hashOf = new Float64Array(numBlocks).fill(Number.NaN);
    this.next = new Int32Array(numBlocks + 1);
    this.prev = new Int32Array(numBlocks + 1);
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

  /** The cached block holding this hash, if any. */
  lookup(hash: number): number | undefined {
    return this.cache.get(hash);
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
    const h = this.hashOf[block]!;
    if (!Number.isNaN(h)) {
      if (this.cache.get(h) === block) this.cache.delete(h);
      this.hashOf[block] = Number.NaN;
    }
    this.refCount[block] = 1;
    return block;
  }

  /** Drops one reference; an unreferenced block goes to the tail of the free queue, keeping its hash. */
  release(block: number): void {
    const r = --this.refCount[block]!;
    if (r < 0) throw new Error(`KV block ${block} released twice`);
    if (r === 0) this.append(block);
  }

  /** Registers a full block under its hash (first writer wins, as in vLLM). */
  cacheBlock(block: number, hash: number): void {
    if (!Number.isNaN(this.hashOf[block]!)) return;
    if (this.cache.has(hash)) return;
    this.cache.set(hash, block);
    this.hashOf[block] = hash;
  }

  /** Fraction of blocks in use, 0..1 (vLLM: 1 - free/total). */
  usage(): number {
    return this.numBlocks === 0 ? 0 : 1 - this.freeCount / this.numBlocks;
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
