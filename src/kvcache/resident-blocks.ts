/**
 * The blocks one vLLM server holds in its GPU prefix cache, as its KV events tell: BlockStored adds,
 * BlockRemoved removes, AllBlocksCleared empties. Keys are externalBlockKey of the events' hashes (the
 * same keys BlockKeyChain computes for a request). Copies are counted: two requests that computed
 * the same prefix at once each cache (and publish) their own block under one hash, and each is
 * evicted (and published) on its own, so the hash stays held until its last copy goes, as in the
 * server. Bounded: beyond maxBlocks the oldest stored go first, so a publisher that never sends
 * BlockRemoved cannot grow memory without bound.
 */
import type { KvEventBatch } from "./kv-events.ts";
import { RecencyMap } from "./recency-map.ts";
import { externalBlockKey } from "./vllm-block-hash.ts";

export class ResidentBlocks {
  readonly maxBlocks: number;
  /** key → copies held (≥ 1), in store order (oldest first; a RecencyMap, no Map delete + insert per store). */
  readonly #copies = new RecencyMap<number>();

  constructor(maxBlocks: number) {
    this.maxBlocks = maxBlocks;
  }

  /** Distinct keys held. */
  get size(): number {
    return this.#copies.size;
  }

  has(key: number): boolean {
    return this.#copies.has(key);
  }

  /** Applies one batch. Events of other tiers (medium other than GPU) are ignored. */
  apply(batch: KvEventBatch): void {
    const copies = this.#copies;
    for (const e of batch.events) {
      if (e.type === "AllBlocksCleared") {
        copies.clear();
        continue;
      }
      if (e.medium !== null && e.medium !== "GPU") continue;
      if (e.type === "BlockStored") {
        for (const h of e.blockHashes) {
          const k = externalBlockKey(h);
          copies.set(k, (copies.get(k) ?? 0) + 1); // stored again: newest
        }
        while (copies.size > this.maxBlocks) copies.deleteOldest();
      } else {
        for (const h of e.blockHashes) {
          const k = externalBlockKey(h);
          const n = copies.get(k);
          if (n === undefined) continue;
          if (n <= 1) copies.delete(k);
          else copies.update(k, n - 1);
        }
      }
    }
  }

  /** How many of `keys`, from the first, are held consecutively. */
  leadingHeld(keys: readonly number[]): number {
    let n = 0;
    while (n < keys.length && this.#copies.has(keys[n]!)) n++;
    return n;
  }

  clear(): void {
    this.#copies.clear();
  }
}
