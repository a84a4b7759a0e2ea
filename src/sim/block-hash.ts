/**
 * Chained block hashes for prefix caching, as vLLM's hash(parent_hash, block_tokens, extra_keys):
 * a 53-bit number mixing the parent hash, the block's token ids and an extra key (the LoRA adapter).
 */

/** Hash of a string (the adapter name), 32 bits; 0 for no adapter. */
export function extraKeyOf(adapter: string | null): number {
  if (adapter === null) return 0;
  let h = 0x9e3779b9;
  for (let i = 0; i < adapter.length; i++) h = Math.imul(h ^ adapter.charCodeAt(i), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0 || 1;
}

/** Hash of tokens[start, end) chained onto parent (a previous block hash or the seed) with extra. */
export function blockHash(
  parent: number,
  tokens: readonly number[],
  start: number,
  end: number,
  extra: number,
): number {
  let h1 = (0xdeadbeef ^ parent ^ extra) >>> 0;
  let h2 = (0x41c6ce57 ^ Math.floor(parent / 4294967296) ^ Math.imul(extra, 31)) >>> 0;
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    h1 = Math.imul(h1 ^ t, 2654435761);
    h2 = Math.imul(h2 ^ t, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
