import assert from "node:assert/strict";
import { test } from "node:test";
import { encode } from "@msgpack/msgpack";
import {
  decodeKvEventBatch,
  encodeKvEventBatch,
  type KvCacheEvent,
  KvEventsDecodeError,
  readSeqFrame,
  seqFrame,
} from "../../src/kvcache/kv-events.ts";

const H = [15760518052499183552n, 5n, 2n ** 40n, 2n ** 53n + 1n];
const common = {
  medium: "GPU",
  groupIdx: 0,
  kvCacheSpecKind: "full_attention",
  kvCacheSpecSlidingWindow: null,
};
const EVENTS: KvCacheEvent[] = [
  {
    type: "BlockStored",
    blockHashes: H,
    parentBlockHash: null,
    tokenIds: [1, 2, 300, 70000],
    blockSize: 2,
    loraId: null,
    loraName: null,
    extraKeys: [null, null, null, null],
    ...common,
  },
  {
    type: "BlockStored",
    blockHashes: [7n],
    parentBlockHash: H[0]!,
    tokenIds: [9, 9],
    blockSize: 2,
    loraId: 1,
    loraName: "ad",
    extraKeys: [["ad", "salt"]],
    ...common,
  },
  { type: "BlockRemoved", blockHashes: [H[0]!], medium: "GPU", groupIdx: 0 },
  { type: "AllBlocksCleared" },
];

/**
 * The same batch encoded by msgspec 0.19 (msgspec.msgpack.Encoder) from vLLM's struct definitions:
 * vLLM 0.26's kv_events.py (events as tagged maps) for "map", vLLM 0.11's array_like structs for
 * "array" (that one with ts 1789095808.0, a whole number that must stay a float64).
 */
const MSGSPEC_MAP =
  "93cb41daa8dbe0359fe7948ba474797065ab426c6f636b53746f726564ac626c6f636b5f68617368657394cfdab89baa7b5857c005cf0000010000000000cf0020000000000001b1706172656e745f626c6f636b5f68617368c0a9746f6b656e5f696473940102cd012cce00011170aa626c6f636b5f73697a6502a76c6f72615f6964c0a66d656469756da3475055a96c6f72615f6e616d65c0aa65787472615f6b65797394c0c0c0c0a967726f75705f69647800b26b765f63616368655f737065635f6b696e64ae66756c6c5f617474656e74696f6e8ba474797065ab426c6f636b53746f726564ac626c6f636b5f6861736865739107b1706172656e745f626c6f636b5f68617368cfdab89baa7b5857c0a9746f6b656e5f696473920909aa626c6f636b5f73697a6502a76c6f72615f696401a66d656469756da3475055a96c6f72615f6e616d65a26164aa65787472615f6b6579739192a26164a473616c74a967726f75705f69647800b26b765f63616368655f737065635f6b696e64ae66756c6c5f617474656e74696f6e84a474797065ac426c6f636b52656d6f766564ac626c6f636b5f68617368657391cfdab89baa7b5857c0a66d656469756da3475055a967726f75705f6964780081a474797065b0416c6c426c6f636b73436c656172656400";
const MSGSPEC_ARRAY =
  "93cb41daa8dbe00000009498ab426c6f636b53746f72656494cfdab89baa7b5857c005cf0000010000000000cf0020000000000001c0940102cd012cce0001117002c0a3475055c098ab426c6f636b53746f7265649107cfdab89baa7b5857c09209090201a3475055a2616493ac426c6f636b52656d6f76656491cfdab89baa7b5857c0a347505591b0416c6c426c6f636b73436c656172656400";

test("encodes KVEventBatch byte for byte as vLLM's msgspec encoder does (map and array formats)", () => {
  const map = encodeKvEventBatch({ ts: 1789095808.8378847, events: EVENTS, dataParallelRank: 0 }, "map");
  assert.equal(map.toString("hex"), MSGSPEC_MAP);
  const arr = encodeKvEventBatch({ ts: 1789095808, events: EVENTS, dataParallelRank: 0 }, "array");
  assert.equal(arr.toString("hex"), MSGSPEC_ARRAY);
});

test("decodes both formats back to the same events (array drops the fields that format lacks)", () => {
  const map = decodeKvEventBatch(Buffer.from(MSGSPEC_MAP, "hex"));
  assert.equal(map.ts, 1789095808.8378847);
  assert.equal(map.dataParallelRank, 0);
  assert.deepEqual(map.events, EVENTS);
  const arr = decodeKvEventBatch(Buffer.from(MSGSPEC_ARRAY, "hex"));
  assert.equal(arr.ts, 1789095808);
  const legacy = EVENTS.map((e) =>
    e.type === "BlockStored"
      ? { ...e, extraKeys: null, groupIdx: null, kvCacheSpecKind: null }
      : e.type === "BlockRemoved"
        ? { ...e, groupIdx: null }
        : e,
  );
  assert.deepEqual(arr.events, legacy);
});

test("decoding skips unknown event types and rejects malformed batches with the field's path", () => {
  const withUnknown = encode([1.5, [{ type: "BlockMoved", x: 1 }, { type: "AllBlocksCleared" }], 0]);
  assert.deepEqual(decodeKvEventBatch(withUnknown).events, [{ type: "AllBlocksCleared" }]);
  const bad: [unknown, RegExp][] = [
    [[1.5, [{ type: "BlockRemoved", block_hashes: ["x"], medium: null }]], /events\[0\]\.block_hashes\[0\]/],
    [[1.5, [["BlockStored", [1], null, "nope", 16, null, "GPU", null]]], /token_ids/],
    [["late", []], /batch\.ts/],
    [[1.5, 7], /batch\.events/],
    [[1.5, [42]], /events\[0\]: expected an event/],
    ["just a string", /batch/],
  ];
  for (const [value, re] of bad)
    assert.throws(
      () => decodeKvEventBatch(encode(value)),
      (e: unknown) => e instanceof KvEventsDecodeError && re.test((e as Error).message),
    );
  assert.throws(() => decodeKvEventBatch(Buffer.from([0xc1])), KvEventsDecodeError);
  assert.throws(() => decodeKvEventBatch(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])), KvEventsDecodeError);
});

test("sequence frames are 8-byte big-endian, the replay end marker is -1", () => {
  assert.equal(seqFrame(258).toString("hex"), "0000000000000102");
  assert.equal(readSeqFrame(seqFrame(258)), 258n);
  assert.equal(seqFrame(-1n).toString("hex"), "ffffffffffffffff");
  assert.equal(readSeqFrame(Buffer.from("ffffffffffffffff", "hex")), -1n);
  assert.throws(() => readSeqFrame(Buffer.alloc(4)), /8 bytes/);
});
