/**
 * A request's vLLM block-hash chain as the keys KV events carry (externalBlockKey of each block's
 * hash), memoised: a block's SHA-256 depends on its tokens and its parent's hash, so the chain up to a
 * block is identified by a cheap rolling hash of every token so far (two 32-bit lanes: one keys the
 * memo as an unboxed integer, the other is checked). Shared prefixes (the point of prefix caching)
 * then cost one SHA-256 per block once, and one Map lookup per block afterwards. Collisions of the
 * 64-bit memo key only misplace a score, never a request.
 */
import { blockKey, extraKeysFor, type VllmBlockHasher } from "./vllm-block-hash.ts";

/** Bytes of a block hash (SHA-256, both hash algorithms). */
const DIGEST_BYTES = 32;

/**
 * Memoised block-key chains for one hasher (one pool's hash seed and algorithm). The memo is a ring
 * of memoEntries slots in insertion order, held in typed arrays (no object per block for the GC to
 * trace): a slot's memo key check lane, block key and digest; a Map from the first lane to the slot.
 * Inserting into a full ring forgets the entry it overwrites (a Map evicted from its oldest entry
 * instead walks every deleted one: 18 µs a block).
 */
export class BlockKeyChain {
  readonly #hasher: VllmBlockHasher;
  /** First memo-key lane → slot. */
  readonly #memo = new Map<number, number>();
  /** Per slot: the first lane (the Map key), the second lane (checked), the block key, the digest. */
  readonly #lanes: Int32Array;
  readonly #checks: Int32Array;
  readonly #keys: Int32Array;
  readonly #digests: Buffer;
  #next = 0;

  /** `memoEntries`: blocks remembered at most (oldest forgotten first). */
  constructor(hasher: VllmBlockHasher, memoEntries = 200_000) {
    this.#hasher = hasher;
    const n = Math.max(1, memoEntries);
    this.#lanes = new Int32Array(n);
    this.#checks = new Int32Array(n);
    this.#keys = new Int32Array(n);
    this.#digests = Buffer.alloc(n * DIGEST_BYTES);
  }

  /** Blocks remembered now. */
  get memoSize(): number {
    return this.#memo.size;
  }

  /** Remembers a block in the next slot (forgetting the entry that held it, unless replaced since); returns the slot. */
  #remember(a: number, b: number, digest: Buffer): number {
    const slot = this.#next;
    this.#next = (slot + 1) % this.#lanes.length;
    if (this.#memo.size > 0) {
      const old = this.#lanes[slot]!;
      if (this.#memo.get(old) === slot) this.#memo.delete(old);
    }
    this.#lanes[slot] = a;
    this.#checks[slot] = b;
    this.#keys[slot] = blockKey(digest);
    digest.copy(this.#digests, slot * DIGEST_BYTES);
    this.#memo.set(a, slot);
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
    let parentSlot = -1;
    for (let blk = 0; blk < n; blk++) {
      const start = blk * blockSize;
      for (let i = start; i < start + blockSize; i++) {
        const t = tokens[i]!;
        a = Math.imul(a ^ t, 0x01000193);
        b = Math.imul(b ^ t, 0x5bd1e995);
        b ^= b >>> 15;
      }
      let slot = this.#memo.get(a);
      if (slot === undefined || this.#checks[slot] !== b) {
        if (parent === null && parentSlot >= 0)
          parent = this.#digests.subarray(parentSlot * DIGEST_BYTES, (parentSlot + 1) * DIGEST_BYTES);
        const digest = this.#hasher.hashBlock(
          parent,
          tokens,
          start,
          start + blockSize,
          extraKeysFor(blk, loraName, null),
        );
        slot = this.#remember(a, b, digest);
        parent = digest;
      } else parent = null;
      out[blk] = this.#keys[slot]!;
      parentSlot = slot;
    }
    return out;
  }
}
