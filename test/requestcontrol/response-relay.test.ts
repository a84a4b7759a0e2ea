import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
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

/** An SSE stream as vLLM sends it: events with multi-byte text, a usage event, `[DONE]`. */
function sseStream(model: string): Buffer {
  const events = ["", "é", "日本語", "€ and 🎉", "plain"].map(
    (text, i) =>
      `data: {"id":"c${i}","model":"${model}","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`,
  );
  events.push(
    `data: {"id":"u","model":"${model}","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4}}\n\n`,
  );
  events.push("data: [DONE]\n\n");
  return Buffer.from(events.join(""));
}

/** Pushes `wire` cut at `cuts` (any byte: mid-key, mid-character, mid-`data:`); the bytes sent. */
function relayCut(relay: ResponseRelay, wire: Buffer, cuts: number[]): Buffer {
  relay.streaming();
  const out: Buffer[] = [];
  let pos = 0;
  for (const cut of [...new Set(cuts.filter((c) => c > 0 && c < wire.length))].sort((a, b) => a - b)) {
    out.push(Buffer.from(relay.push(wire.subarray(pos, cut))));
    pos = cut;
  }
  out.push(Buffer.from(relay.push(wire.subarray(pos))), Buffer.from(relay.end()));
  return Buffer.concat(out);
}

test("split anywhere (mid-key, mid-UTF-8 character, mid-`data:`), the stream is rewritten exactly and usage is read", () => {
  const upstream = sseStream("travel-helper-v1");
  const want = sseStream("travel-helper");
  fc.assert(
    fc.property(fc.array(fc.nat(upstream.length), { maxLength: 20 }), (cuts) => {
      const relay = new ResponseRelay("travel-helper-v1", "travel-helper");
      assert.deepEqual(relayCut(relay, upstream, cuts), want);
      assert.equal(relay.promptTokens, 12);
      assert.equal(relay.completionTokens, 4);
      assert.equal(relay.firstTokenSeen, true);
      assert.equal(relay.streamError, false);
    }),
    { numRuns: 300 },
  );
});

test("split anywhere without a rewrite, the bytes pass unchanged; the first token is the first non-empty content", () => {
  const upstream = sseStream("qwen");
  fc.assert(
    fc.property(fc.array(fc.nat(upstream.length), { maxLength: 20 }), (cuts) => {
      const relay = new ResponseRelay("qwen", "qwen");
      assert.deepEqual(relayCut(relay, upstream, cuts), upstream);
      assert.equal(relay.completionTokens, 4);
    }),
    { numRuns: 300 },
  );
  const relay = new ResponseRelay("qwen", "qwen");
  relay.streaming();
  const [roleOnly, rest] = [upstream.indexOf("\n\n") + 2, upstream.length];
  relay.push(upstream.subarray(0, roleOnly));
  assert.equal(relay.firstTokenSeen, false, "the role-only event is not a token");
  relay.push(upstream.subarray(roleOnly, rest));
  assert.equal(relay.firstTokenSeen, true);
});

test("an engine's error event is noticed with or without the space after `data:`; an error object inside text is not", () => {
  const seen = (chunks: string[]): boolean => {
    const relay = new ResponseRelay("qwen", "qwen");
    relay.streaming();
    for (const c of chunks) relay.push(Buffer.from(c));
    relay.end();
    return relay.streamError;
  };
  assert.equal(seen(['data: {"text":"a"}\n\n', 'data: {"error":{"message":"boom"}}\n\n']), true);
  assert.equal(seen(['data:{"error":{"message":"boom"}}\n\n']), true);
  assert.equal(seen(['data: {"text":"a"}\n\ndata: {"er', 'ror":{"message":"split"}}\n\n']), true);
  assert.equal(seen(['data: {"text":"{\\"error\\":1}","x":{"error":2}}\n\n', "data: [DONE]\n\n"]), false);
  assert.equal(seen(['{"error"']), false);
});

test("a rewritten body that is one long line passes in pieces: at most ~1 MiB held, every key rewritten wherever the cut falls", () => {
  const key = (space: string) => `"model":${space}"travel-helper-v1"`;
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2_600_000 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1000, max: 200_000 }),
      fc.constantFrom("", " ", "  \t"),
      (positions, chunkSize, space) => {
        // A ~2.6 MB JSON line with model keys at the given places (and around the 1 MiB mark).
        const at = [...new Set([...positions, 1024 * 1024 - 3, 1024 * 1024 + 2])].sort((a, b) => a - b);
        let body = '{"data":"';
        let filler = 0;
        for (const p of at) {
          body += "x".repeat(Math.max(0, p - filler));
          filler = Math.max(filler, p);
          body += `",${key(space)},"f":"`;
        }
        body += `${"y".repeat(1000)}"}`;
        const expected = body.replaceAll(key(space), '"model":"travel-helper"');
        const relay = new ResponseRelay("travel-helper-v1", "travel-helper");
        const input = Buffer.from(body);
        const out: Buffer[] = [];
        let sent = 0;
        for (let i = 0; i < input.length; i += chunkSize) {
          const piece = relay.push(input.subarray(i, i + chunkSize));
          out.push(piece);
          sent += piece.length;
          const pushed = Math.min(input.length, i + chunkSize);
          assert.ok(pushed - sent <= 1024 * 1024 + chunkSize + 4096, `held ${pushed - sent} bytes`);
        }
        out.push(relay.end());
        assert.equal(Buffer.concat(out).toString(), expected);
      },
    ),
    { numRuns: 25 },
  );
});
