import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { SampleRequest } from "../../src/bench/prompts.ts";
import { alignPromptsToServer } from "../../src/bench/tokenize-align.ts";
import { startFakeServer } from "./fake-sse-server.ts";

const samples = (): SampleRequest[] =>
  [10, 20, 30].map((n) => ({
    prompt: Array.from({ length: n }, (_, i) => `x${i}`).join(" "),
    promptLen: n,
    outputLen: 4,
  }));

test("prompts the server already counts right are left alone, silently", async () => {
  const s = await startFakeServer();
  after(() => s.close());
  const lines: string[] = [];
  const input = samples();
  assert.deepEqual(await alignPromptsToServer(s.url, "m", input, (l) => lines.push(l)), input);
  assert.deepEqual(lines, []);
});

test("when the server counts more tokens, prompts are cut to their length (via /detokenize, else by words)", async () => {
  for (const detokenize of [true, false]) {
    const s = await startFakeServer({ tokensPerWord: 2, detokenize });
    const lines: string[] = [];
    const out = await alignPromptsToServer(s.url, "m", samples(), (l) => lines.push(l));
    await s.close();
    assert.match(lines[0]!, /tokenizer mismatch \(server=20, expected=10\)/);
    for (const [i, r] of out.entries()) {
      const serverTokens = r.prompt.split(" ").length * 2;
      assert.ok(
        serverTokens <= r.promptLen,
        `detokenize=${detokenize} #${i}: ${serverTokens} > ${r.promptLen}`,
      );
      assert.ok(
        serverTokens >= r.promptLen - 2,
        `detokenize=${detokenize} #${i}: cut too much (${serverTokens})`,
      );
    }
  }
});

test("a server without /tokenize is reported once and prompts are kept", async () => {
  const lines: string[] = [];
  const input = samples();
  assert.deepEqual(await alignPromptsToServer("http://127.0.0.1:1", "m", input, (l) => lines.push(l)), input);
  assert.deepEqual(lines, ["WARNING: /tokenize unavailable, skipping alignment."]);
});
