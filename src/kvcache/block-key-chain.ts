/**
 * A request's vLLM block-hash chain as the keys KV events carry (externalBlockKey of each block's
 * hash), memoised: a block's SHA-256 depends on its tokens and its parent's hash, so the chain up to a
 * block is identified by a cheap rolling hash of every token so far (two 32-bit lanes: one keys the
 * memo as an unboxed integer, the other is checked). Shared prefixes (the point of prefix caching)
 * then cost one SHA-256 per block once, and one Map lookup per block afterwards. Collisions of the
 * 64-bit memo key only misplace a score, never a request.
 */
import { blockKey, extraKeysFor, type VllmBlockHasher } from "./vllm-block-hash.ts";

interface Memo {
  /** The second lane of the memo key (the first is the Map key). */
  readonly check: number;
  readonly digest: Buffer;
  readonly key: number;
  /** Its place in the insertion ring (the memo forgets the entry when the ring comes round). */
  readonly slot: number;
}

/** Memoised block-key chains for one hasher (one pool's hash seed and algorithm). */
export class BlockKeyChain {
  readonly #hasher: VllmBlockHasher;
  readonly #memo = new Map<number, Memo>();
  /**
   * The memo keys in insertion order, a ring of memoEntries: inserting into a full ring forgets the
   * entry it overwrites (a Map evicted from its oldest entry walks every deleted one: 18 µs a block).
   */
  readonly #ring: Int32Array;
  #next = 0;

  /** `memoEntries`: blocks remembered at most (oldest forgotten first). */
  constructor(hasher: VllmBlockHasher, memoEntries = 200_000) {
    this.#hasher = hasher;
    this.#ring = new Int32Array(Math.max(1, memoEntries));
  }

  /** Blocks remembered now. */
  get memoSize(): number {
    return this.#memo.size;
  }

  /** The ring slot for a new entry; forgets the entry that held it, unless replaced since. */
  #insertSlot(): number {
    const slot = this.#next;
    this.#next = (slot + 1) % this.#ring.length;
    if (this.#memo.size > 0) {
      const old = this.#ring[slot]!;
      if (this.#memo.get(old)?.slot === slot) this.#memo.delete(old);
    }
    return slot;
  }

  /**
   * Keys of the full blocks of `tokens` (blockSize tokens each), at most maxBlocks, as vLLM's events
   * would name them for a request of `loraName` (null = base model) without cache_salt.
   */
  keys(tokens: ArrayLike<number>, blockSize: number, loraName: string | null, maxBlocks: number): number[] {
    const n = Math.min(Math.floor(tokens.length / blockSize), maxBlocks);
    const out = new Array<number>(n);
    // Two 32-bit FNV-style lanes over (blockSize, lora, tokens…): the memo key of each chain prefix.
    let a = Math.imul(0x811c9dc5 ^ blockSize, 0x01000193);
    let b = Math.imul(0x9747b28c ^ blockSize, 0x5bd1e995);
    if (loraName !== null) {
      for (let i = 0; i < loraName.length; i++) {
        a = Math.imul(a ^ loraName.charCodeAt(i), 0x01000193);
        b = Math.imul(b ^ loraName.charCodeAt(i), 0x5bd1e995);
      }
    }
    let parent: Buffer | null = null;
    for (let blk = 0; blk < n; blk++) {
      const start = blk * blockSize;
      for (let i = start; i < start + blockSize; i++) {
        const t = tokens[i]!;
        a = Math.imul(a ^ t, 0x01000193);
        b = Math.imul(b ^ t, 0x5bd1e995);
        b ^= b >>> 15;
      }
      let m = this.#memo.get(a);
      if (m === undefined || m.check !== b) {
        const digest = this.#hasher.hashBlock(
          parent,
          tokens,
          start,
          start + blockSize,
          extraKeysFor(blk, loraName, null),
        );
        m = { check: b, digest, key: blockKey(digest), slot: this.#insertSlot() };
        this.#ring[m.slot] = a;
        this.#memo.set(a, m);
      }
      out[blk] = m.key;
      parent = m.digest;
    }
    return out;
  }
}
