/**
 * The blocks one vLLM server holds in its GPU prefix cache, as its KV events tell: BlockStored adds,
 * BlockRemoved removes, AllBlocksCleared empties. Keys are externalHashKey of the events' hashes (the
 * same keys BlockKeyChain computes for a request). Bounded: beyond maxBlocks the oldest stored go
 * first, so a publisher that never sends BlockRemoved cannot grow memory without bound.
 */
import type { KvEventBatch } from "./kv-events.ts";
import { externalHashKey } from "./vllm-block-hash.ts";

export class ResidentBlocks {
  readonly maxBlocks: number;
  readonly #keys = new Set<number>();

  constructor(maxBlocks: number) {
    this.maxBlocks = maxBlocks;
  }

  get size(): number {
    return this.#keys.size;
  }

  has(key: number): boolean {
    return this.#keys.has(key);
  }

  /** Applies one batch. Events of other tiers (medium other than GPU) are ignored. */
  apply(batch: KvEventBatch): void {
    for (const e of batch.events) {
      if (e.type === "AllBlocksCleared") {
        this.#keys.clear();
        continue;
      }
      if (e.medium !== null && e.medium !== "GPU") continue;
      if (e.type === "BlockStored") {
        for (const h of e.blockHashes) {
          const k = externalHashKey(h);
          this.#keys.delete(k); // re-stored: newest again
          this.#keys.add(k);
        }
        while (this.#keys.size > this.maxBlocks)
          this.#keys.delete(this.#keys.values().next().value as number);
      } else {
        for (const h of e.blockHashes) this.#keys.delete(externalHashKey(h));
      }
    }
  }

  /** How many of `keys`, from the first, are held consecutively. */
  leadingHeld(keys: readonly number[]): number {
    let n = 0;
    while (n < keys.length && this.#keys.has(keys[n]!)) n++;
    return n;
  }

  clear(): void {
    this.#keys.clear();
  }
}
