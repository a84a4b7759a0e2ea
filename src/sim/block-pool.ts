/**
 * The paged KV cache: a fixed pool of blocks with reference counts, an LRU free queue and a prefix
 * cache (block hash -> block). Freed blocks join the tail of the free queue and keep their hash until
 * they are handed out again (vLLM V1's BlockPool). Only the engine calls it.
 */
export class BlockPool {
  readonly numBlocks: number;
  private readonly refCount: Int32Array;
  private readonly hashOf: Float64Array;
  /** Free blocks in LRU order: the first key is evicted first. */
  private readonly free = new Map<number, true>();
  private readonly cache = new Map<number, number>();

  constructor(numBlocks: number) {
    this.numBlocks = numBlocks;
    this.refCount = new Int32Array(numBlocks);
    this.hashOf = new Float64Array(numBlocks).fill(Number.NaN);
    for (let i = 0; i < numBlocks; i++) this.free.set(i, true);
  }

  /** Blocks not referenced by any request (cached-but-unused blocks count as free). */
  numFree(): number {
    return this.free.size;
  }

  /** Blocks referenced by at least one request. */
  numUsed(): number {
    return this.numBlocks - this.free.size;
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
    if (this.refCount[block] === 0) this.free.delete(block);
    this.refCount[block]!++;
  }

  /** Hands out the least recently freed block, evicting its cached hash. Caller checks numFree() first. */
  allocate(): number {
    const next = this.free.keys().next();
    if (next.done) throw new Error("KV block pool exhausted (caller must check numFree first)");
    const block = next.value;
    this.free.delete(block);
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
    if (r === 0) this.free.set(block, true);
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
    return this.numBlocks === 0 ? 0 : 1 - this.free.size / this.numBlocks;
  }
}
