/**
 * The model rewrite of response processing, on bytes: every `"model"<ws>:<ws>"<target>"` in a
 * buffer becomes `"model":"<client>"` (JSON's whitespace between the tokens), with no decoding of
 * the body, no regular expression and no copy when the target is absent. The buffer must hold
 * whole lines (the relay's unit), so a key is never split across two calls.
 */

/** `"model"` as bytes. */
const MODEL_KEY = Buffer.from('"model"');
/** Bytes of JSON whitespace around the colon a key may have and still be rewritten. */
const MAX_KEY_SPACE = 1024;

function isSpace(b: number | undefined): boolean {
  return b === 32 || (b !== undefined && b >= 9 && b <= 13);
}

/** Where the `"model"` key that owns the value at `at` starts (`"model" :` before it), or -1. */
function keyStart(buf: Buffer, at: number): number {
  let i = at - 1;
  while (i >= 0 && isSpace(buf[i])) i--;
  if (buf[i] !== 58) return -1; // ':'
  i--;
  while (i >= 0 && isSpace(buf[i])) i--;
  const start = i - MODEL_KEY.length + 1;
  if (start < 0) return -1;
  for (let k = 0; k < MODEL_KEY.length; k++) if (buf[start + k] !== MODEL_KEY[k]) return -1;
  return start;
}

/** Rewrites one target model name back to the client's, as bytes (see the file's comment). */
export class ModelRewrite {
  /** The target's JSON string (quotes included), as UTF-8 bytes. */
  readonly #target: Buffer;
  /** `"model":"<client>"`. */
  readonly #replacement: Buffer;

  constructor(targetModel: string, clientModel: string) {
    this.#target = Buffer.from(JSON.stringify(targetModel));
    this.#replacement = Buffer.from(`"model":${JSON.stringify(clientModel)}`);
  }

  /**
   * Where `buf` (an unfinished line) may be cut so that no key is split and every key before the
   * cut is rewritten as if the line were whole: at its last `"model"` when one is near the end,
   * else just before where one could begin. Lets a long line pass in pieces of bounded memory.
   */
  safeCut(buf: Buffer): number {
    const last = buf.lastIndexOf(MODEL_KEY);
    const reach = MODEL_KEY.length + MAX_KEY_SPACE + this.#target.length;
    if (last >= 0 && buf.length - last <= reach) return last;
    return Math.max(0, buf.length - (MODEL_KEY.length - 1));
  }

  /** `buf` with every `"model":"<target>"` replaced; `buf` itself when there is none. */
  apply(buf: Buffer): Buffer {
    const target = this.#target;
    let at = buf.indexOf(target);
    if (at < 0) return buf;
    let parts: Buffer[] | undefined;
    let copied = 0;
    while (at >= 0) {
      const start = keyStart(buf, at);
      if (start >= 0) {
        parts ??= [];
        parts.push(buf.subarray(copied, start), this.#replacement);
        copied = at + target.length;
      }
      at = buf.indexOf(target, at + target.length);
    }
    if (!parts) return buf;
    parts.push(buf.subarray(copied));
    return Buffer.concat(parts);
  }
}
