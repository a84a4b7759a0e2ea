import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseRelay } from "../../src/requestcontrol/response-relay.ts";

function run(relay: ResponseRelay, chunks: string[]): string[] {
  const out = chunks.map((c) => relay.push(Buffer.from(c)).toString());
  out.push(relay.end().toString());
  return out;
}

test("every SSE event is rewritten back to the client's model and sent as soon as it is complete", () => {
  const relay = new ResponseRelay("travel-helper-v1", "travel-helper");
  const out = run(relay, [
    'data: {"model":"travel-helper-v1","choices":[{"text":"a"}]}\n\n',
    'data: {"model": "travel-help',
    'er-v1","choices":[{"text":"b"}]}\n\ndata: [DONE]\n\n',
  ]);
  assert.deepEqual(out, [
    'data: {"model":"travel-helper","choices":[{"text":"a"}]}\n\n',
    "",
    'data: {"model":"travel-helper","choices":[{"text":"b"}]}\n\ndata: [DONE]\n\n',
    "",
  ]);
});

test("a JSON body is rewritten at the end; other fields that merely contain the name are left alone", () => {
  const relay = new ResponseRelay("qwen-lora", "qwen");
  const out = run(relay, [
    '{"id":"1","model":"qwen-lora",',
    '"note":"qwen-lora","usage":{"prompt_tokens":5,"completion_tokens":2}}',
  ]);
  assert.equal(
    out.join(""),
    '{"id":"1","model":"qwen","note":"qwen-lora","usage":{"prompt_tokens":5,"completion_tokens":2}}',
  );
  assert.equal(relay.promptTokens, 5);
  assert.equal(relay.completionTokens, 2);
});

test("without a rewrite, bytes pass through unchanged (same chunks) and usage is still read", () => {
  const relay = new ResponseRelay("qwen", "qwen");
  const chunks = [
    'data: {"model":"qwen"}\n\n',
    'data: {"usage":{"prompt_tokens":9,"completion_tokens":4}}\n\n',
  ];
  assert.deepEqual(run(relay, chunks), [...chunks, ""]);
  assert.equal(relay.rewrites, false);
  assert.equal(relay.completionTokens, 4);
});
