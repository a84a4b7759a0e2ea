/**
 * The parse cost of a request body, checked incrementally as its bytes arrive and before
 * JSON.parse runs (which is synchronous and builds the whole tree at once): nesting depth,
 * objects and arrays, values, object-key length. A 15 MB `[{},{},…]` (5M objects) is refused
 * after its first ~300 KB, a 100k-deep `[[[…` after 65 bytes; a body within the limits parses in
 * tens of milliseconds into a bounded tree. It is a tokenizer, not a validator: syntax errors are
 * left to JSON.parse. It also finds the byte span of the top-level `"model"` string, so that a
 * model rewrite splices bytes instead of re-serialising the tree.
 */

/** What one body may cost to parse. */
export interface JsonLimits {
  /** Open objects and arrays at once. */
  readonly maxDepth: number;
  /** Objects and arrays in the whole body. */
  readonly maxContainers: number;
  /** Values (strings, numbers, literals, objects, arrays) in the whole body. */
  readonly maxValues: number;
  /** Bytes of one object key, as written. */
  readonly maxKeyBytes: number;
}

/**
 * Defaults: far above any OpenAI request (a 1M-token prompt of token ids is 1M values; tool
 * schemas nest a few dozen levels), far below what stalls the event loop.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = {
  maxDepth: 64,
  maxContainers: 100_000,
  maxValues: 1_000_000,
  maxKeyBytes: 1024,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MODEL = [0x6d, 0x6f, 0x64, 0x65, 0x6c]; // "model"
const OBJECT = 1;
const ARRAY = 2;

/** Byte offsets of a JSON string token, quotes included. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/** Feed it the body's bytes in order with push(); `error` says which limit was passed first. */
export class JsonBudget {
  readonly limits: JsonLimits;
  /** Why the body is refused (sticky), or undefined while within the limits. */
  error: string | undefined = undefined;
  containers = 0;
  values = 0;
  /** Bytes pushed so far. */
  bytes = 0;
  /** The last top-level `"model": "…"` value's span (undefined: none seen, or its key was escaped). */
  modelSpan: ByteSpan | undefined = undefined;
  /** OBJECT or ARRAY per open level (a plain array: a typed array costs ~0.7 µs to allocate per body). */
  readonly #stack: number[] = [0];
  #depth = 0;
  #inString = false;
  #inKey = false;
  #escape = false;
  #inScalar = false;
  #expectKey = false;
  #keyBytes = 0;
  #keyIsModel = false;
  #lastKeyIsModel = false;
  #modelStart = -1;
  /** The next backslash at or after the scan position in the current chunk (-1 unknown, n none). */
  #backslash = -1;
  /** The same for the next quote. */
  #quote = -1;

  constructor(limits: JsonLimits = DEFAULT_JSON_LIMITS) {
    this.limits = limits;
  }

  /** Scans `chunk`; returns false once the body is over a limit (then `error` says which). */
  push(chunk: Buffer): boolean {
    if (this.error !== undefined) return false;
    const base = this.bytes;
    this.bytes += chunk.length;
    const n = chunk.length;
    this.#backslash = -1;
    this.#quote = -1;
    const stack = this.#stack;
    const { maxDepth, maxContainers, maxValues } = this.limits;
    // The structural state lives in locals in the hot loop (written back below).
    let depth = this.#depth;
    let expectKey = this.#expectKey;
    let inScalar = this.#inScalar;
    let values = this.values;
    let containers = this.containers;
    let error: string | undefined;
    let i = 0;
    // A string that went on from the last chunk: continue after its closing quote.
    if (this.#inString)
      i = (this.#inKey ? this.#keyEnd(chunk, 0, depth) : this.#valueEnd(chunk, 0, base)) + 1;
    if (this.error !== undefined) return false;
    for (; i < n && error === undefined; i++) {
      const c = chunk[i]!;
      switch (c) {
        case QUOTE:
          inScalar = false;
          this.#inString = true;
          if (expectKey) {
            this.#inKey = true;
            this.#keyBytes = 0;
            this.#keyIsModel = depth === 1;
            i = this.#keyEnd(chunk, i + 1, depth);
          } else {
            if (++values > maxValues) error = tooManyValues(maxValues);
            if (depth === 1 && this.#lastKeyIsModel && stack[1] === OBJECT) this.#modelStart = base + i;
            this.#inKey = false;
            i = this.#valueEnd(chunk, i + 1, base);
          }
          if (this.error !== undefined) error = this.error;
          break;
        case 0x7b: // {
        case 0x5b: // [
          if (depth >= maxDepth) error = `the request body nests deeper than ${maxDepth} levels`;
          else if (++containers > maxContainers)
            error = `the request body has more than ${maxContainers} objects and arrays`;
          else if (++values > maxValues) error = tooManyValues(maxValues);
          stack[++depth] = c === 0x7b ? OBJECT : ARRAY;
          expectKey = c === 0x7b;
          inScalar = false;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (depth > 0) depth--;
          expectKey = false;
          inScalar = false;
          break;
        case 0x2c: // ,
          expectKey = stack[depth] === OBJECT;
          if (depth === 1) this.#lastKeyIsModel = false;
          inScalar = false;
          break;
        case 0x3a: // :
          expectKey = false;
          inScalar = false;
          break;
        case 0x20:
        case 0x0a:
        case 0x0d:
        case 0x09:
          inScalar = false;
          break;
        default:
          // A number or literal starts (or goes on).
          if (!inScalar) {
            inScalar = true;
            if (++values > maxValues) error = tooManyValues(maxValues);
          }
      }
    }
    this.#depth = Math.min(depth, maxDepth);
    this.#expectKey = expectKey;
    this.#inScalar = inScalar;
    this.values = values;
    this.containers = containers;
    if (error !== undefined) this.error = error;
    return error === undefined;
  }

  /**
   * Scans an object key from `i` to its closing quote (tracking whether it is `model` and its
   * length); returns that quote's index, or chunk.length when the key goes on in the next chunk.
   */
  #keyEnd(chunk: Buffer, i: number, depth: number): number {
    const n = chunk.length;
    const max = this.limits.maxKeyBytes;
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (this.#escape) this.#escape = false;
      else if (c === BACKSLASH) {
        this.#escape = true;
        this.#keyIsModel = false;
      } else if (c === QUOTE) {
        this.#inString = false;
        if (depth === 1) this.#lastKeyIsModel = this.#keyIsModel && this.#keyBytes === 5;
        return i;
      }
      if (this.#keyIsModel && (this.#keyBytes >= 5 || MODEL[this.#keyBytes] !== c)) this.#keyIsModel = false;
      if (++this.#keyBytes > max) {
        this.error = `an object key is longer than ${max} bytes`;
        return n;
      }
    }
    return n;
  }

  /** The same for a value string (recording the model's span when it is the top-level `model`). */
  #valueEnd(chunk: Buffer, i: number, base: number): number {
    const q = this.#skipString(chunk, i);
    if (q === chunk.length) return q;
    this.#inString = false;
    if (this.#modelStart >= 0) {
      this.modelSpan = { start: this.#modelStart, end: base + q + 1 };
      this.#modelStart = -1;
    }
    return q;
  }

  /** Index of the closing quote of the value string that `i` is in, or chunk.length (not in this chunk). */
  #skipString(chunk: Buffer, i: number): number {
    const n = chunk.length;
    for (;;) {
      if (this.#escape) {
        if (i >= n) return n;
        this.#escape = false;
        i++;
      }
      if (this.#backslash < i) {
        const b = chunk.indexOf(BACKSLASH, i);
        this.#backslash = b < 0 ? n : b;
      }
      if (this.#quote < i) {
        const q = chunk.indexOf(QUOTE, i);
        this.#quote = q < 0 ? n : q;
      }
      const end = this.#quote;
      if (this.#backslash >= end) return end;
      this.#escape = true;
      i = this.#backslash + 1;
    }
  }
}

function tooManyValues(max: number): string {
  return `the request body has more than ${max} values`;
}
