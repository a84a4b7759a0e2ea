import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import {
  blockHashKey,
  blockKey,
  externalBlockHash,
  externalBlockKey,
  externalHashKey,
  extraKeysFor,
  VllmBlockHasher,
} from "../../src/kvcache/vllm-block-hash.ts";

// Token ids covering every integer opcode (BININT1/2, BININT, LONG1) and CBOR head size.
const TOKENS = [1, 2, 300, 70000, 2 ** 31, 5, 0, 255, 256, 65535, 65536, 2147483647, 2 ** 40, 7, 8, 9];

/**
 * Expected digests, computed with CPython 3.11 (pickle protocol 5 + hashlib) and cbor2 5.x
 * (canonical=True) exactly as vLLM's hash_block_tokens does, PYTHONHASHSEED="0":
 * NONE_HASH, then b0 = H((NONE, TOKENS, None)), b1 = H((b0, TOKENS[:3], ("lora-a", "salt"))),
 * b2 = H((b1, TOKENS[:1], ("x" * 300,))), b3 = H((b2, (), None)).
 */
const GOLDEN = {
  sha256: {
    none: "1973e23848344dc43a988a9b478663803cfffe1243480253f9a3cf004b14aa7c",
    blocks: [
      "dbef12b7dcb4442db75b55397b00b9a7ed80997aaf35fafa5e55721d522b30c1",
      "1d178e31a28a1d969fb444812eed3d5a0b13738658c953b6150dab6e765e7bf6",
      "456d17383c4abdd9dd067a0a8973d0caa9ca4c07014e20b9e60d22103f2d73f7",
      "461072441a71561de44c438debac4716fe86ab75f03bf6bf7b0d87f94ae2c3d3",
    ],
    external0: 6797464682843812033n,
  },
  sha256_cbor: {
    none: "4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e",
    blocks: [
      "2c11f89e56100070ddca1b8f07b6a5c1fa7a25853d3ea2c055d29e50dbc44b7e",
      "6252644eaa2c7f59c4dea0aad8356ddf56d2140e3c96e5309f50353c224f2b15",
      "28c72ebf0ad603a0d1aba02638aee12e7f39906b630c7f336d6b08b4d67c02d1",
      "acf25edf192da8f72b26d46d5da5fbc74b1068cbf8a213ac4b008a265b7cd48a",
    ],
    external0: 6184179308454759294n,
  },
} as const;

function chain(h: VllmBlockHasher): Buffer[] {
  const b0 = h.hashBlock(null, TOKENS, 0, 16, null);
  const b1 = h.hashBlock(b0, TOKENS, 0, 3, ["lora-a", "salt"]);
  const b2 = h.hashBlock(b1, TOKENS, 0, 1, ["x".repeat(300)]);
  const b3 = h.hashBlock(b2, TOKENS, 0, 0, null);
  return [b0, b1, b2, b3];
}

for (const algo of ["sha256", "sha256_cbor"] as const) {
  test(`${algo}: NONE_HASH and the block chain match vLLM's bytes`, () => {
    const h = new VllmBlockHasher(algo, "0");
    assert.equal(h.noneHash.toString("hex"), GOLDEN[algo].none);
    const blocks = chain(h);
    assert.deepEqual(
      blocks.map((b) => b.toString("hex")),
      GOLDEN[algo].blocks,
    );
    assert.equal(externalBlockHash(blocks[0]!), GOLDEN[algo].external0);
    assert.equal(blockHashKey(blocks[0]!), externalHashKey(GOLDEN[algo].external0));
    assert.equal(blockKey(blocks[0]!), externalBlockKey(GOLDEN[algo].external0));
    assert.equal(externalBlockKey(BigInt(blockKey(blocks[0]!))), blockKey(blocks[0]!), "round trip");
  });
}

test("without a seed NONE_HASH is random per hasher (vLLM without PYTHONHASHSEED)", () => {
  const a = new VllmBlockHasher("sha256", null);
  const b = new VllmBlockHasher("sha256", null);
  assert.notEqual(a.noneHash.toString("hex"), b.noneHash.toString("hex"));
  assert.equal(a.noneHash.length, 32);
});

test("extra keys: the LoRA name on every block, the cache salt on block 0 only", () => {
  assert.equal(extraKeysFor(0, null, null), null);
  assert.deepEqual(extraKeysFor(0, "ad", "s"), ["ad", "s"]);
  assert.deepEqual(extraKeysFor(3, "ad", "s"), ["ad"]);
  assert.deepEqual(extraKeysFor(0, null, "s"), ["s"]);
  assert.equal(extraKeysFor(1, null, "s"), null);
});

test("blockHashes chains full blocks only and continues a prior chain", () => {
  const h = new VllmBlockHasher("sha256", "42");
  const tokens = Array.from({ length: 70 }, (_, i) => 1000 + i);
  const all = h.blockHashes(tokens, 16, "ad", "salt");
  assert.equal(all.length, 4, "70 tokens hold 4 full blocks of 16");
  let parent: Buffer | null = null;
  for (let b = 0; b < 4; b++) {
    const want = h.hashBlock(parent, tokens, b * 16, (b + 1) * 16, extraKeysFor(b, "ad", "salt"));
    assert.ok(all[b]!.equals(want), `block ${b}`);
    parent = want;
  }
  const resumed = h.blockHashes(tokens, 16, "ad", "salt", all.slice(0, 2));
  assert.deepEqual(resumed, all);
  assert.throws(() => h.hashBlock(null, [2 ** 60], 0, 1, null), /safe integer/);
});

// Cross-check against the local CPython when there is one (pickle and hashlib are in its standard library).
const python = spawnSync("python3", ["-c", "import pickle"], { encoding: "utf8" });
test("sha256 chain agrees with CPython's pickle on random prompts", {
  skip: python.status !== 0 ? "python3 not available" : false,
}, () => {
  const h = new VllmBlockHasher("sha256", "1234");
  const prompts = Array.from({ length: 5 }, (_, p) =>
    Array.from({ length: 33 + p * 7 }, (_, i) => ((i + 1) * 2654435761 * (p + 1)) % 2 ** 31),
  );
  const ours = prompts.map((t, p) =>
    h
      .blockHashes(t, 16, p % 2 ? "lora-x" : null, p === 2 ? "tenant" : null)
      .map((d) => externalBlockHash(d).toString()),
  );
  const script = `
import hashlib, json, pickle, sys
def H(o): return hashlib.sha256(pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)).digest()
none = H("1234")
out = []
for p, toks in enumerate(json.load(sys.stdin)):
    parent, hs = none, []
    for b in range(len(toks) // 16):
        keys = ([ "lora-x" ] if p % 2 else []) + ([ "tenant" ] if p == 2 and b == 0 else [])
        parent = H((parent, tuple(toks[b*16:(b+1)*16]), tuple(keys) if keys else None))
        hs.append(str(int.from_bytes(parent, "big") & ((1 << 64) - 1)))
    out.append(hs)
print(json.dumps(out))`;
  const r = spawnSync("python3", ["-c", script], { input: JSON.stringify(prompts), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(ours, JSON.parse(r.stdout));
});
