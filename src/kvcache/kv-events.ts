/**
 * vLLM's KV-cache events on the wire (vllm/distributed/kv_events.py): the msgpack `KVEventBatch` and the
 * ZMQ framing around it. `igw sim` encodes with it; the gateway's precise prefix index decodes with it.
 *
 * A batch is a positional msgpack array `[ts (float64), events, data_parallel_rank]` (EventBatch is a
 * msgspec Struct with array_like=True, omit_defaults=True). Each event is a msgspec tagged union member
 * (tag field "type" = the class name):
 * - format "map" (vLLM releases after vllm-project/vllm#42892, June 2026; checked against a batch
 *   captured from vLLM 0.26.0): a map in declaration order, fields equal to their default omitted —
 *   BlockStored {type, block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium,
 *   lora_name[, extra_keys][, group_idx][, kv_cache_spec_kind][, kv_cache_spec_sliding_window]},
 *   BlockRemoved {type, block_hashes, medium[, group_idx]}, AllBlocksCleared {type};
 * - format "array" (array_like events, as vLLM 0.11-0.13 wrote them; later array-like releases
 *   append optional fields, which the decoder reads): ["BlockStored", block_hashes, parent_block_hash,
 *   token_ids, block_size, lora_id, medium, lora_name], ["BlockRemoved", block_hashes, medium],
 *   ["AllBlocksCleared"].
 * Block hashes are unsigned 64-bit integers (see vllm-block-hash.ts). decodeKvEventBatch reads both
 * formats, including the trailing optional fields of later array-like releases.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { ExtraKey } from "./vllm-block-hash.ts";

/** New full blocks of one request became cached (one event per request per step). */
export interface BlockStored {
  type: "BlockStored";
  /** External hashes of the new blocks, in chain order. */
  blockHashes: bigint[];
  /** Hash of the block before the first new one; null when the first new block is the request's block 0. */
  parentBlockHash: bigint | null;
  /** The new blocks' token ids (blockHashes.length × blockSize of them). */
  tokenIds: number[];
  blockSize: number;
  /** vLLM's integer LoRA id (deprecated upstream in favour of loraName); null for the base model. */
  loraId: number | null;
  /** "GPU" for vLLM's own cache. */
  medium: string | null;
  loraName: string | null;
  /** Per block, the extra keys mixed into its hash (LoRA name, cache salt on block 0), or null. */
  extraKeys: (ExtraKey[] | null)[] | null;
  groupIdx: number | null;
  kvCacheSpecKind: string | null;
  kvCacheSpecSlidingWindow: number | null;
}

/** Cached blocks were evicted (vLLM: one event per evicted block). */
export interface BlockRemoved {
  type: "BlockRemoved";
  blockHashes: bigint[];
  medium: string | null;
  groupIdx: number | null;
}

/** The whole prefix cache was reset (POST /reset_prefix_cache). */
export interface AllBlocksCleared {
  type: "AllBlocksCleared";
}

export type KvCacheEvent = BlockStored | BlockRemoved | AllBlocksCleared;

/**
 * A BlockStored of known hashes with every other field empty (what a ResidentBlocks reads), for
 * feeding an index without a server: tests and bench:scheduler.
 */
export function blockStoredOf(
  blockHashes: bigint[],
  blockSize: number,
  medium: string | null = "GPU",
): BlockStored {
  return {
    type: "BlockStored",
    blockHashes,
    parentBlockHash: null,
    tokenIds: [],
    blockSize,
    loraId: null,
    medium,
    loraName: null,
    extraKeys: null,
    groupIdx: null,
    kvCacheSpecKind: null,
    kvCacheSpecSlidingWindow: null,
  };
}

/** One published message: the events of one engine step. ts is wall-clock seconds. */
export interface KvEventBatch {
  ts: number;
  events: KvCacheEvent[];
  dataParallelRank: number | null;
}

/** How events are laid out inside the batch (see the module comment). */
export const KV_EVENTS_FORMATS = ["map", "array"] as const;
export type KvEventsFormat = (typeof KV_EVENTS_FORMATS)[number];

/** A payload that is not a KVEventBatch; message says where. */
export class KvEventsDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KvEventsDecodeError";
  }
}

const encoder = new Encoder({ useBigInt64: true });
/** Limits keep a hostile payload from allocating much before it is rejected. */
const decoder = new Decoder({
  useBigInt64: true,
  maxStrLength: 1 << 20,
  maxBinLength: 1 << 20,
  maxArrayLength: 1 << 22,
  maxMapLength: 64,
  maxExtLength: 0,
});

/**
 * msgspec writes the smallest integer form. The library writes numbers below 2^32 minimally but larger
 * ones as floats, and bigints always as uint64 (which is msgspec's form from 2^32 up), so integers are
 * handed to it as numbers below 2^32 and as bigints from there.
 */
function wireHash(h: bigint): bigint | number {
  return h <= 0xffffffffn ? Number(h) : h;
}

function wireInt(v: number): bigint | number {
  return v > 0xffffffff ? BigInt(v) : v;
}

function storedFields(e: BlockStored): unknown[] {
  return [
    e.blockHashes.map(wireHash),
    e.parentBlockHash === null ? null : wireHash(e.parentBlockHash),
    e.tokenIds.some((t) => t > 0xffffffff) ? e.tokenIds.map(wireInt) : e.tokenIds,
    e.blockSize,
    e.loraId,
    e.medium,
    e.loraName,
  ];
}

function eventAsMap(e: KvCacheEvent): Record<string, unknown> {
  if (e.type === "AllBlocksCleared") return { type: e.type };
  if (e.type === "BlockRemoved") {
    const m: Record<string, unknown> = {
      type: e.type,
      block_hashes: e.blockHashes.map(wireHash),
      medium: e.medium,
    };
    if (e.groupIdx !== null) m["group_idx"] = e.groupIdx;
    return m;
  }
  const [hashes, parent, tokens, size, loraId, medium, loraName] = storedFields(e);
  const m: Record<string, unknown> = {
    type: e.type,
    block_hashes: hashes,
    parent_block_hash: parent,
    token_ids: tokens,
    block_size: size,
    lora_id: loraId,
    medium,
    lora_name: loraName,
  };
  if (e.extraKeys !== null) m["extra_keys"] = e.extraKeys;
  if (e.groupIdx !== null) m["group_idx"] = e.groupIdx;
  if (e.kvCacheSpecKind !== null) m["kv_cache_spec_kind"] = e.kvCacheSpecKind;
  if (e.kvCacheSpecSlidingWindow !== null) m["kv_cache_spec_sliding_window"] = e.kvCacheSpecSlidingWindow;
  return m;
}

function eventAsArray(e: KvCacheEvent): unknown[] {
  if (e.type === "AllBlocksCleared") return [e.type];
  if (e.type === "BlockRemoved") return [e.type, e.blockHashes.map(wireHash), e.medium];
  return [e.type, ...storedFields(e)];
}

/** The msgpack payload of a batch, as vLLM's msgspec encoder writes it in the given format. */
export function encodeKvEventBatch(batch: KvEventBatch, format: KvEventsFormat): Buffer {
  const toWire: (e: KvCacheEvent) => unknown = format === "map" ? eventAsMap : eventAsArray;
  const events = encoder.encode(batch.events.map(toWire));
  const rank = batch.dataParallelRank === null ? null : encoder.encode(batch.dataParallelRank);
  // The outer array is written here because ts must stay a float64 even when it is a whole number
  // (msgspec encodes Python floats as float64; the library would write an integer).
  const out = Buffer.allocUnsafe(10 + events.length + (rank?.length ?? 0));
  out[0] = rank === null ? 0x92 : 0x93;
  out[1] = 0xcb;
  out.writeDoubleBE(batch.ts, 2);
  out.set(events, 10);
  if (rank !== null) out.set(rank, 10 + events.length);
  return out;
}

function fail(path: string, want: string, got: unknown): never {
  const shown = typeof got === "bigint" ? `${got}` : JSON.stringify(got)?.slice(0, 60);
  throw new KvEventsDecodeError(`${path}: expected ${want}, got ${shown}`);
}

function asHash(v: unknown, path: string): bigint {
  if (typeof v === "bigint" && v >= 0n) return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (typeof v === "bigint") return BigInt.asUintN(64, v);
  return fail(path, "an integer block hash", v);
}

function asHashes(v: unknown, path: string): bigint[] {
  if (!Array.isArray(v)) fail(path, "a list of block hashes", v);
  const out = new Array<bigint>(v.length);
  for (let i = 0; i < v.length; i++) {
    const h: unknown = v[i];
    // The common case without building the element's path (a string per element).
    out[i] = typeof h === "bigint" && h >= 0n ? h : asHash(h, `${path}[${i}]`);
  }
  return out;
}

function asInt(v: unknown, path: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v);
  return fail(path, "an integer", v);
}

function optInt(v: unknown, path: string): number | null {
  return v === null || v === undefined ? null : asInt(v, path);
}

function optStr(v: unknown, path: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") fail(path, "a string or nil", v);
  return v;
}

function asTokens(v: unknown, path: string): number[] {
  if (!Array.isArray(v)) fail(path, "a list of token ids", v);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const t: unknown = v[i];
    out[i] = typeof t === "number" && Number.isInteger(t) ? t : asInt(t, `${path}[${i}]`);
  }
  return out;
}

function asExtraKeys(v: unknown, path: string): (ExtraKey[] | null)[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) fail(path, "a list of extra keys", v);
  return v.map((k, i) => {
    if (k === null) return null;
    if (!Array.isArray(k)) fail(`${path}[${i}]`, "a tuple or nil", k);
    return k.map((x) => (typeof x === "string" ? x : JSON.stringify(typeof x === "bigint" ? `${x}` : x)));
  });
}

/** Named fields of one event, from either encoding (array positions mapped to vLLM's field names). */
function fieldsOf(raw: unknown, path: string): { tag: string; get(name: string): unknown } {
  if (Array.isArray(raw)) {
    const tag = raw[0];
    if (typeof tag !== "string") fail(`${path}[0]`, "an event tag", tag);
    const order =
      tag === "BlockStored"
        ? [
            "block_hashes",
            "parent_block_hash",
            "token_ids",
            "block_size",
            "lora_id",
            "medium",
            "lora_name",
            "extra_keys",
            "group_idx",
            "kv_cache_spec_kind",
            "kv_cache_spec_sliding_window",
          ]
        : tag === "BlockRemoved"
          ? ["block_hashes", "medium", "group_idx"]
          : [];
    return { tag, get: (name) => raw[order.indexOf(name) + 1] };
  }
  if (typeof raw === "object" && raw !== null && !(raw instanceof Uint8Array)) {
    const m = raw as Record<string, unknown>;
    const tag = m["type"];
    if (typeof tag !== "string") fail(`${path}.type`, "an event tag", tag);
    return { tag, get: (name) => (Object.hasOwn(m, name) ? m[name] : undefined) };
  }
  return fail(path, "an event (array or map)", raw);
}

function decodeEvent(raw: unknown, path: string): KvCacheEvent | null {
  const f = fieldsOf(raw, path);
  if (f.tag === "AllBlocksCleared") return { type: "AllBlocksCleared" };
  if (f.tag === "BlockRemoved") {
    return {
      type: "BlockRemoved",
      blockHashes: asHashes(f.get("block_hashes"), `${path}.block_hashes`),
      medium: optStr(f.get("medium"), `${path}.medium`),
      groupIdx: optInt(f.get("group_idx"), `${path}.group_idx`),
    };
  }
  if (f.tag !== "BlockStored") return null; // an event type this reader does not know: skipped
  const parent = f.get("parent_block_hash");
  return {
    type: "BlockStored",
    blockHashes: asHashes(f.get("block_hashes"), `${path}.block_hashes`),
    parentBlockHash:
      parent === null || parent === undefined ? null : asHash(parent, `${path}.parent_block_hash`),
    tokenIds: asTokens(f.get("token_ids"), `${path}.token_ids`),
    blockSize: asInt(f.get("block_size"), `${path}.block_size`),
    loraId: optInt(f.get("lora_id"), `${path}.lora_id`),
    medium: optStr(f.get("medium"), `${path}.medium`),
    loraName: optStr(f.get("lora_name"), `${path}.lora_name`),
    extraKeys: asExtraKeys(f.get("extra_keys"), `${path}.extra_keys`),
    groupIdx: optInt(f.get("group_idx"), `${path}.group_idx`),
    kvCacheSpecKind: optStr(f.get("kv_cache_spec_kind"), `${path}.kv_cache_spec_kind`),
    kvCacheSpecSlidingWindow: optInt(
      f.get("kv_cache_spec_sliding_window"),
      `${path}.kv_cache_spec_sliding_window`,
    ),
  };
}

/**
 * Decodes a KVEventBatch payload in either format (events of unknown types are skipped); throws
 * KvEventsDecodeError naming the bad field.
 */
export function decodeKvEventBatch(payload: Uint8Array): KvEventBatch {
  let raw: unknown;
  try {
    raw = decoder.decode(payload);
  } catch (e) {
    throw new KvEventsDecodeError(`not msgpack: ${(e as Error).message}`);
  }
  let ts: unknown;
  let events: unknown;
  let rank: unknown;
  if (Array.isArray(raw)) [ts, events, rank] = raw;
  else if (typeof raw === "object" && raw !== null) {
    const m = raw as Record<string, unknown>;
    [ts, events, rank] = [m["ts"], m["events"], m["data_parallel_rank"]];
  } else fail("batch", "an array [ts, events, data_parallel_rank]", raw);
  if (typeof ts !== "number") fail("batch.ts", "a float", ts);
  if (!Array.isArray(events)) fail("batch.events", "a list", events);
  const out: KvCacheEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = decodeEvent(events[i], `batch.events[${i}]`);
    if (e !== null) out.push(e);
  }
  return { ts, events: out, dataParallelRank: optInt(rank, "batch.data_parallel_rank") };
}

/** A sequence number as the 8-byte big-endian frame vLLM sends. */
export function seqFrame(seq: bigint | number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(seq));
  return b;
}

/** Reads an 8-byte big-endian sequence frame (signed: the replay end marker is -1). */
export function readSeqFrame(frame: Uint8Array): bigint {
  if (frame.length !== 8)
    throw new KvEventsDecodeError(`sequence frame: expected 8 bytes, got ${frame.length}`);
  return Buffer.from(frame.buffer, frame.byteOffset, 8).readBigInt64BE(0);
}

/** The replay end marker's sequence (vLLM's END_SEQ, -1 as 8 signed big-endian bytes). */
export const REPLAY_END_SEQ = -1n;
