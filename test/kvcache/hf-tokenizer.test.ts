import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BlockKeyChain } from "../../src/kvcache/block-key-chain.ts";
import { loadTokenizerJson, TokenizerLoadError } from "../../src/kvcache/hf-tokenizer.ts";
import { blockStoredOf } from "../../src/kvcache/kv-events.ts";
import { VllmBlockHasher } from "../../src/kvcache/vllm-block-hash.ts";
import { buildEndpointPickerConfig } from "../../src/scheduling/endpoint-picker-config.ts";
import type { PrecisePrefixCacheScorer } from "../../src/scheduling/plugins/scorers/precise-prefix-cache-scorer.ts";
import { candidate, request } from "../scheduling/fixtures.ts";

/**
 * A byte-level BPE tokenizer.json in the format of GPT-2/Llama-3 style models (ByteLevel
 * pre-tokenizer, BPE merges by rank, TemplateProcessing adding BOS <s> = 0), with a vocabulary of
 * 38 tokens: <s>, Ġ, a–z and the merges up to "hello", "Ġworld", "Ġhello".
 */
const FIXTURE = fileURLToPath(new URL("./fixtures/tiny-bpe/tokenizer.json", import.meta.url));

/** Ids from Hugging Face's Rust `tokenizers` 0.23.3 (Python: Tokenizer.from_file(FIXTURE).encode(s).ids). */
const GOLDEN: [string, number[]][] = [
  ["hello world hello", [0, 31, 36, 37]],
  ["hellox", [0, 31, 25]],
  ["hello  world\nworld", [0, 31, 1, 36, 24, 33, 13, 5]],
  ["héllo wörld", [0, 9, 29, 16, 32, 19, 13, 5]],
];

test("tokenizer.json: the ids Hugging Face's tokenizers computes (BOS added as vLLM does), capped", () => {
  const tokenize = loadTokenizerJson(FIXTURE);
  for (const [text, ids] of GOLDEN) assert.deepEqual(tokenize(text, 1000), ids, text);
  assert.deepEqual(tokenize("hello world hello", 2), [0, 31]);
});

test("tokenizer.json: a missing, malformed or foreign file is a clear error", () => {
  const dir = mkdtempSync(join(tmpdir(), "igw-tok-"));
  try {
    assert.throws(() => loadTokenizerJson(join(dir, "none.json")), /cannot read tokenizer.json .*none.json/);
    writeFileSync(join(dir, "bad.json"), "{not json");
    assert.throws(() => loadTokenizerJson(join(dir, "bad.json")), /is not JSON/);
    writeFileSync(join(dir, "config.json"), '{"architectures": ["LlamaForCausalLM"]}');
    assert.throws(() => loadTokenizerJson(join(dir, "config.json")), /has no "model" section/);
    writeFileSync(join(dir, "odd.json"), '{"model": {"type": "NoSuchModel"}}');
    assert.throws(() => loadTokenizerJson(join(dir, "odd.json")), TokenizerLoadError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function pickerConfig(parameters: Record<string, unknown>) {
  return buildEndpointPickerConfig({
    apiVersion: "inference.networking.x-k8s.io/v1alpha1",
    kind: "EndpointPickerConfig",
    plugins: [{ type: "precise-prefix-cache-scorer", parameters }],
  });
}

test("precise-prefix-cache-scorer with tokenizerPath matches the vLLM blocks of the model's token ids", () => {
  const built = pickerConfig({
    hashSeed: "0",
    blockSize: 2,
    tokenizerPath: FIXTURE,
    kvEventsEndpoints: { "10.8.0.1:8000": "tcp://127.0.0.1:9", "10.8.0.2:8000": "tcp://127.0.0.1:9" },
  });
  const scorer = built.plugins.get("precise-prefix-cache-scorer") as PrecisePrefixCacheScorer;
  try {
    const [a, b] = [candidate({ id: "10.8.0.1:8000" }), candidate({ id: "10.8.0.2:8000" })];
    // Server a computed "hello world hello world": ids [0, 31, 36, 37, 36], two full blocks of 2.
    const keys = new BlockKeyChain(new VllmBlockHasher("sha256", "0")).keys([0, 31, 36, 37, 36], 2, null, 99);
    assert.equal(keys.length, 2);
    scorer.tracker.watch(a!.endpoint.id, a!.endpoint.host).apply({
      ts: 0,
      events: [
        blockStoredOf(
          keys.map((k) => BigInt(k)),
          2,
        ),
      ],
      dataParallelRank: null,
    });
    // The same leading tokens, another tail ([0, 31, 36, 37, 1, 25]: 3 blocks): 2 of 3 held on a.
    assert.deepEqual(scorer.score(request({ prefixText: "hello world hello x" }), [a!, b!]), [2 / 3, 0]);
    const m = scorer.prefixMatch(request({ prefixText: "hello world hello x" }), [a!, b!]);
    assert.deepEqual(m, { promptTokens: 6, cachedTokens: [4, 0] }, "the tokenizer's own prompt length");
    // The simulator's tokenizer would give other ids, so nothing would match.
    const sim = pickerConfig({
      hashSeed: "0",
      blockSize: 2,
      kvEventsEndpoints: { "10.8.0.1:8000": "tcp://127.0.0.1:9" },
    });
    const simScorer = sim.plugins.get("precise-prefix-cache-scorer") as PrecisePrefixCacheScorer;
    assert.deepEqual(simScorer.score(request({ prefixText: "hello world hello x" }), [a!]), [0]);
    simScorer.close();
  } finally {
    scorer.close();
  }
});

test("precise-prefix-cache-scorer: tokenizer parameters are checked at configuration load", () => {
  assert.throws(
    () => pickerConfig({ hashSeed: "0", tokenizerPath: "/nonexistent/tokenizer.json" }),
    /tokenizerPath.*cannot read tokenizer.json \/nonexistent\/tokenizer.json/s,
  );
  assert.throws(
    () => pickerConfig({ hashSeed: "0", tokenizer: "huggingface" }),
    /tokenizerPath.*needs tokenizerPath/s,
  );
  assert.throws(
    () => pickerConfig({ hashSeed: "0", tokenizer: "simulator", tokenizerPath: FIXTURE }),
    /tokenizer.*takes no tokenizerPath/s,
  );
  const explicit = pickerConfig({ hashSeed: "0", tokenizer: "huggingface", tokenizerPath: FIXTURE });
  (explicit.plugins.get("precise-prefix-cache-scorer") as PrecisePrefixCacheScorer).close();
});
