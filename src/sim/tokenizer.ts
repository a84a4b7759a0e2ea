/**
 * The simulator's tokenizer. Rule: one token per whitespace-separated word, so a client can build a
 * prompt of exactly N tokens by joining N words with spaces. A word's id is the FNV-1a hash of its
 * text (31 bits), the same in every process; ids seen by this process decode back to their words.
 */

import { simWordId } from "../kvcache/sim-token-ids.ts";

const reverse = new Map<number, string>();
/** Cap on remembered id -> word entries, so arbitrary prompts cannot grow memory without bound. */
const REVERSE_CAP = 1_000_000;

/** FNV-1a of a string, folded to a non-negative 31-bit id (simWordId); remembered for decoding. */
export function wordId(word: string): number {
  const id = simWordId(word);
  if (reverse.size < REVERSE_CAP && !reverse.has(id)) reverse.set(id, word);
  return id;
}

const WHITESPACE = /\s+/;

/** Token ids of a text: one per whitespace-separated word (empty text -> no tokens). */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (const w of text.split(WHITESPACE)) if (w.length > 0) ids.push(wordId(w));
  return ids;
}

/** The word for an id: the remembered word, else `<id>` for ids this process never produced. */
export function idToWord(id: number): string {
  return reverse.get(id) ?? `<${id}>`;
}

/** Text of a token id list: words joined by single spaces. */
export function detokenize(ids: readonly number[]): string {
  return ids.map(idToWord).join(" ");
}

/** Words the engine generates; each output token is " " + one of these. */
export const OUTPUT_WORDS: readonly string[] = (
  "the of and to in is was for on that with as by at from it an be this are or which have has not " +
  "but had were they their one all been more when there can also into would so other some time " +
  "its only new about after two first then most over such many these may any could like than " +
  "model token cache queue batch server request prefix block memory engine step"
)
  .split(" ")
  .filter((w) => w.length > 0);

/** Ids of OUTPUT_WORDS, index-aligned. */
export const OUTPUT_IDS: readonly number[] = OUTPUT_WORDS.map(wordId);

/** Text chunks as streamed: " word" (leading space), index-aligned with OUTPUT_WORDS. */
export const OUTPUT_PIECES: readonly string[] = OUTPUT_WORDS.map((w) => ` ${w}`);
