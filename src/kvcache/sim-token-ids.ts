/**
 * `igw sim`'s documented tokenizer as a pure function (docs/simulator.md): one token per
 * whitespace-separated word, a word's id is the FNV-1a hash of its text folded to 31 bits. The
 * simulator's tokenizer (src/sim/tokenizer.ts) and the gateway's precise prefix index both use it,
 * so the gateway computes the same token ids, hence the same vLLM block hashes, as a simulated server.
 */

/** FNV-1a of a word, folded to a non-negative 31-bit id. */
export function simWordId(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) & 0x7fffffff;
}

/** Whether a UTF-16 code unit is whitespace as the simulator's /\s+/ split sees it. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Token ids of `text` under the simulator's rule, at most `maxTokens` of them. One pass over the
 * characters, no intermediate strings (the gateway calls it on every scheduling decision).
 */
export function simTokenIds(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
  const ids: number[] = [];
  if (maxTokens <= 0) return ids;
  const n = text.length;
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Printable ASCII (most text) is never whitespace: skip the full test.
    if ((c > 32 && c < 127) || !isSpace(c)) {
      inWord = true;
      h = Math.imul(h ^ c, 0x01000193);
    } else if (inWord) {
      if (ids.push((h >>> 1) & 0x7fffffff) >= maxTokens) return ids;
      inWord = false;
      h = 0x811c9dc5;
    }
  }
  if (inWord) ids.push((h >>> 1) & 0x7fffffff);
  return ids;
}
