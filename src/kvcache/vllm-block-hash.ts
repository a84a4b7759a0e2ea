/**
 * vLLM's prefix-cache block-hash chain, byte for byte, so that a gateway can compute from a request's
 * token ids the same hashes a vLLM server (or `igw sim`) publishes in its KV-cache events. Used by the
 * simulator's engine and by the gateway's precise prefix index.
 *
 * vLLM (v1/core/kv_cache_utils.py): block i's hash is hash_fn((parent, tuple(block_tokens), extra_keys))
 * with parent = block i-1's hash, or NONE_HASH for block 0; NONE_HASH = hash_fn(PYTHONHASHSEED) when the
 * variable is set, else 32 random bytes. hash_fn is `--prefix-caching-hash-algo`: "sha256" (default:
 * SHA-256 of pickle.dumps(obj, protocol=5)) or "sha256_cbor" (SHA-256 of canonical CBOR). Events carry
 * the low 64 bits of the 32-byte digest as an unsigned integer (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1,
 * vLLM's default).
 *
 * The serialisers are written here rather than taken from a library: no npm package reproduces
 * CPython's pickle bytes, and the objects hashed are always the same four types (bytes, a tuple of
 * ints, None, a tuple of strings), so a direct writer into one reused buffer is both exact and the
 * cheapest thing on the gateway's scheduling path (about 1 µs per block).
 */
import { hash as cryptoHash, randomBytes } from "node:crypto";

/** vLLM's `--prefix-caching-hash-algo` values implemented here (xxhash ones are not). */
export const HASH_ALGOS = ["sha256", "sha256_cbor"] as const;
export type HashAlgo = (typeof HASH_ALGOS)[number];

/** One element of a block's extra keys: vLLM puts the LoRA name and the cache salt here (strings). */
export type ExtraKey = string;

/** The block's extra keys as vLLM builds them: [lora_name] on every block, then cache_salt on block 0 only; null when empty. */
export function extraKeysFor(
  blockIndex: number,
  loraName: string | null,
  cacheSalt: string | null,
): ExtraKey[] | null {
  const keys: ExtraKey[] = [];
  if (loraName !== null) keys.push(loraName);
  if (blockIndex === 0 && cacheSalt !== null && cacheSalt !== "") keys.push(cacheSalt);
  return keys.length > 0 ? keys : null;
}

/** Largest serialised object handled (pickle frames beyond 64 KiB are not implemented). */
const MAX_SERIALISED = 65_000;
const out = Buffer.allocUnsafe(MAX_SERIALISED + 64);

/** Serialises with `write`, then hashes; throws RangeError if the object is too large. */
function digestOf(write: () => number): Buffer {
  const n = write();
  return cryptoHash("sha256", out.subarray(0, n), "buffer");
}

// ---------------------------------------------------------------------------------------------
// pickle protocol 5, as CPython's C pickler writes these objects (PROTO, one FRAME, MEMOIZE after
// every bytes/str/non-empty tuple, STOP).

const PICKLE_HEADER = 11; // PROTO 5 + FRAME + 8-byte length

function pickleFinish(end: number): number {
  out[end++] = 0x2e; // STOP
  const frameLen = end - PICKLE_HEADER;
  out[0] = 0x80;
  out[1] = 5;
  if (frameLen < 4) {
    out.copy(out, 2, PICKLE_HEADER, end);
    return end - 9;
  }
  out[2] = 0x95; // FRAME
  out.writeUInt32LE(frameLen, 3);
  out.writeUInt32LE(0, 7);
  return end;
}

function checkRoom(p: number, need: number): void {
  if (p + need > MAX_SERIALISED)
    throw new RangeError("block too large to hash (pickle/CBOR object over 64 KiB)");
}

function pickleInt(p: number, v: number): number {
  if (!Number.isSafeInteger(v)) throw new RangeError(`token id ${v} is not a safe integer`);
  if (v >= 0 && v <= 0xff) {
    out[p] = 0x4b; // BININT1
    out[p + 1] = v;
    return p + 2;
  }
  if (v >= 0 && v <= 0xffff) {
    out[p] = 0x4d; // BININT2
    out.writeUInt16LE(v, p + 1);
    return p + 3;
  }
  if (v >= -0x80000000 && v <= 0x7fffffff) {
    out[p] = 0x4a; // BININT
    out.writeInt32LE(v, p + 1);
    return p + 5;
  }
  // LONG1: little-endian two's complement in (bit_length // 8) + 1 bytes.
  let x = BigInt(v);
  const bits = (x < 0n ? -x - 1n : x).toString(2).length;
  const n = (bits >> 3) + 1;
  out[p] = 0x8a;
  out[p + 1] = n;
  if (x < 0n) x += 1n << BigInt(8 * n);
  for (let i = 0; i < n; i++) {
    out[p + 2 + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return p + 2 + n;
}

function pickleStr(p: number, s: string): number {
  const len = Buffer.byteLength(s, "utf8");
  checkRoom(p, len + 7);
  if (len < 256) {
    out[p] = 0x8c; // SHORT_BINUNICODE
    out[p + 1] = len;
    p += 2;
  } else {
    out[p] = 0x58; // BINUNICODE
    out.writeUInt32LE(len, p + 1);
    p += 5;
  }
  p += out.write(s, p, "utf8");
  out[p] = 0x94; // MEMOIZE
  return p + 1;
}

const TUPLE_N = [0x29, 0x85, 0x86, 0x87]; // EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3

/** Writes a tuple whose items `items` writes; n = item count. */
function pickleTuple(p: number, n: number, items: (p: number) => number): number {
  if (n === 0) {
    out[p] = 0x29;
    return p + 1;
  }
  if (n <= 3) {
    p = items(p);
    out[p] = TUPLE_N[n]!;
    out[p + 1] = 0x94;
    return p + 2;
  }
  out[p] = 0x28; // MARK
  p = items(p + 1);
  out[p] = 0x74; // TUPLE
  out[p + 1] = 0x94;
  return p + 2;
}

/** Serialises (parent, tuple(tokens[start, end)), extra) into `out`; returns the length. */
type BlockWriter = (
  parent: Buffer,
  tokens: ArrayLike<number>,
  start: number,
  end: number,
  extra: readonly ExtraKey[] | null,
) => number;

const pickleBlock: BlockWriter = (parent, tokens, start, end, extra) => {
  checkRoom(PICKLE_HEADER, parent.length + 9 * (end - start) + 16);
  let p = PICKLE_HEADER;
  p = pickleTuple(p, 3, (q) => {
    out[q] = 0x43; // SHORT_BINBYTES
    out[q + 1] = parent.length;
    parent.copy(out, q + 2);
    q += 2 + parent.length;
    out[q++] = 0x94;
    q = pickleTuple(q, end - start, (r) => {
      for (let i = start; i < end; i++) r = pickleInt(r, tokens[i]!);
      return r;
    });
    if (extra === null)
      out[q++] = 0x4e; // NONE
    else
      q = pickleTuple(q, extra.length, (r) => {
        for (const k of extra) r = pickleStr(r, k);
        return r;
      });
    return q;
  });
  return pickleFinish(p);
};

function pickleSeed(seed: string): number {
  return pickleFinish(pickleStr(PICKLE_HEADER, seed));
}

// ---------------------------------------------------------------------------------------------
// Canonical CBOR (cbor2.dumps(obj, canonical=True)): tuples are arrays, minimal-length heads.

function cborHead(p: number, major: number, v: number): number {
  const m = major << 5;
  if (v < 24) {
    out[p] = m | v;
    return p + 1;
  }
  if (v <= 0xff) {
    out[p] = m | 24;
    out[p + 1] = v;
    return p + 2;
  }
  if (v <= 0xffff) {
    out[p] = m | 25;
    out.writeUInt16BE(v, p + 1);
    return p + 3;
  }
  if (v <= 0xffffffff) {
    out[p] = m | 26;
    out.writeUInt32BE(v, p + 1);
    return p + 5;
  }
  out[p] = m | 27;
  out.writeBigUInt64BE(BigInt(v), p + 1);
  return p + 9;
}

function cborInt(p: number, v: number): number {
  if (!Number.isSafeInteger(v)) throw new RangeError(`token id ${v} is not a safe integer`);
  return v >= 0 ? cborHead(p, 0, v) : cborHead(p, 1, -1 - v);
}

function cborStr(p: number, s: string): number {
  const len = Buffer.byteLength(s, "utf8");
  checkRoom(p, len + 9);
  p = cborHead(p, 3, len);
  return p + out.write(s, p, "utf8");
}

const cborBlock: BlockWriter = (parent, tokens, start, end, extra) => {
  checkRoom(0, parent.length + 9 * (end - start) + 16);
  let p = cborHead(0, 4, 3);
  p = cborHead(p, 2, parent.length);
  parent.copy(out, p);
  p += parent.length;
  p = cborHead(p, 4, end - start);
  for (let i = start; i < end; i++) p = cborInt(p, tokens[i]!);
  if (extra === null) out[p++] = 0xf6;
  else {
    p = cborHead(p, 4, extra.length);
    for (const k of extra) p = cborStr(p, k);
  }
  return p;
};

// ---------------------------------------------------------------------------------------------

/**
 * One server's block hasher: the algorithm and NONE_HASH. `hashSeed` is the server's PYTHONHASHSEED
 * (a string, as vLLM reads it); null gives a random NONE_HASH, as vLLM does when the variable is unset
 * (then nobody else can reproduce the hashes).
 */
export class VllmBlockHasher {
  readonly algo: HashAlgo;
  readonly noneHash: Buffer;
  private readonly writeBlock: BlockWriter;

  constructor(algo: HashAlgo, hashSeed: string | null) {
    this.algo = algo;
    this.writeBlock = algo === "sha256" ? pickleBlock : cborBlock;
    this.noneHash =
      hashSeed === null
        ? randomBytes(32)
        : digestOf(() => (algo === "sha256" ? pickleSeed(hashSeed) : cborStr(0, hashSeed)));
  }

  /** hash_block_tokens: the 32-byte hash of tokens[start, end) chained on parent (null = first block). */
  hashBlock(
    parent: Buffer | null,
    tokens: ArrayLike<number>,
    start: number,
    end: number,
    extraKeys: readonly ExtraKey[] | null,
  ): Buffer {
    const par = parent === null || parent.length === 0 ? this.noneHash : parent;
    return digestOf(() => this.writeBlock(par, tokens, start, end, extraKeys));
  }

  /**
   * Hashes of every full block of `tokens` (block_size tokens each), continuing `prior` (hashes of the
   * first prior.length blocks, already computed); returns prior extended in place.
   */
  blockHashes(
    tokens: ArrayLike<number>,
    blockSize: number,
    loraName: string | null,
    cacheSalt: string | null,
    prior: Buffer[] = [],
    upTo = Math.floor(tokens.length / blockSize),
  ): Buffer[] {
    for (let b = prior.length; b < upTo; b++) {
      prior.push(
        this.hashBlock(
          b === 0 ? null : prior[b - 1]!,
          tokens,
          b * blockSize,
          (b + 1) * blockSize,
          extraKeysFor(b, loraName, cacheSalt),
        ),
      );
    }
    return prior;
  }
}

/** The hash as KV events carry it: the digest's low 64 bits (its last 8 bytes, big-endian), unsigned. */
export function externalBlockHash(digest: Buffer): bigint {
  return digest.readBigUInt64BE(digest.length - 8);
}

/** A 52-bit number key for a digest (its low 52 bits), for Maps on hot paths; collisions are negligible. */
export function blockHashKey(digest: Buffer): number {
  const n = digest.length;
  return (digest.readUInt32BE(n - 8) & 0xfffff) * 4294967296 + digest.readUInt32BE(n - 4);
}

/** blockHashKey of an external (64-bit) hash, so events and digests index the same Map. */
export function externalHashKey(h: bigint): number {
  return Number(h & 0xfffffffffffffn);
}

/**
 * The gateway's key for a block: the digest's low 32 bits as a signed integer, which V8 keeps
 * unboxed (a Map lookup by it is about 5× faster than by a 52-bit number, which is boxed). Used
 * per endpoint (ResidentBlocks) and per pool (the sent index): with n blocks in one map a lookup
 * finds another block's key with probability n / 2^32 (7e-6 for a 30,000-block server), which only
 * misplaces a score.
 */
export function blockKey(digest: Buffer): number {
  return digest.readInt32BE(digest.length - 4);
}

/** blockKey of an external (64-bit) hash as KV events carry it. */
export function externalBlockKey(h: bigint): number {
  return Number(BigInt.asIntN(32, h));
}
