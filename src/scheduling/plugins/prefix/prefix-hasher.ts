/**
 * Chained xxhash64 over fixed-size character blocks of a request's prefix text. Block i's hash is
 * xxh64(block i, seed = hash of block i−1); the first seed is xxh64 of the model name, so the same
 * text for two models (or adapters) never shares blocks. The partial tail block is included.
 */
import xxhash from "xxhash-wasm";

const hasher = await xxhash();

/** Hashes of the first ≤ maxBlocks blocks of `text` (blockChars characters each). */
export function prefixBlockHashes(
  text: string,
  model: string,
  blockChars: number,
  maxBlocks: number,
): bigint[] {
  const out: bigint[] = [];
  let seed = hasher.h64(model, 0n);
  for (let i = 0; i < text.length && out.length < maxBlocks; i += blockChars) {
    seed = hasher.h64(text.slice(i, i + blockChars), seed);
    out.push(seed);
  }
  return out;
}
