import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

let sim: SimProcess;
let client: OpenAI;

before(async () => {
  // The seed's exact `vllm serve` argument list, with a positional model path.
  sim = await startSimProcess([
    "/models/Qwen-2.5-7B-Instruct",
    "--enable_prefix_caching",
    "--trust-remote-code",
    "--served-model-name",
    "/model/qwen",
    "--max-model-len",
    "8192",
    "--gpu-memory-utilization",
    "0.95",
    "--enforce-eager",
    "--enable-lora",
    "--max-loras",
    "2",
    "--max-cpu-loras",
    "4",
    "--lora-modules",
    "travel-helper-v1=/models/Qwen-TravelHelper-Lora",
    "travel-helper-v2=/models/Qwen-TravelHelper-Lora-v2",
  ]);
  client = new OpenAI({ baseURL: `${sim.urls[0]}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await sim?.stop();
});

test("openai client streams a chat completion with the right usage", async () => {
  const params: OpenAI.ChatCompletionCreateParamsStreaming & { ignore_eos: boolean } = {
    model: "/model/qwen",
    messages: [{ role: "user", content: "one two three four five" }],
    max_completion_tokens: 7,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true, // vLLM extension: generate exactly max tokens
  };
  const stream = await client.chat.completions.create(params);
  let text = "";
  let roles = 0;
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role === "assistant") roles++;
      text += c.delta.content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(roles, 1);
  assert.equal(finish, "length");
  assert.deepEqual(usage, { prompt_tokens: 5, total_tokens: 12, completion_tokens: 7 });
  assert.equal(text.trim().split(/\s+/).length, 7);
});

test("openai client streams a completion from a LoRA adapter with the right usage", async () => {
  const params: OpenAI.CompletionCreateParamsStreaming & { ignore_eos: boolean } = {
    model: "travel-helper-v2",
    prompt: "a b c",
    max_tokens: 5,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  };
  const stream = await client.completions.create(params);
  let pieces = 0;
  let model = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    model = chunk.model;
    pieces += chunk.choices.length;
  }
  assert.equal(model, "travel-helper-v2");
  assert.equal(pieces, 5);
  assert.deepEqual(usage, { prompt_tokens: 3, total_tokens: 8, completion_tokens: 5 });
});

test("non-streaming completion, /v1/models with LoRA cards, and vLLM error bodies", async () => {
  const c = await client.completions.create({ model: "/model/qwen", prompt: "x y", max_tokens: 3 });
  assert.equal(c.usage?.prompt_tokens, 2);
  assert.ok((c.usage?.completion_tokens ?? 0) >= 1 && (c.usage?.completion_tokens ?? 0) <= 3);

  const models = await client.models.list();
  const byId = new Map(models.data.map((m) => [m.id, m as unknown as Record<string, unknown>]));
  assert.equal(byId.get("/model/qwen")?.["parent"], null);
  assert.equal(byId.get("travel-helper-v1")?.["parent"], "/model/qwen");
  assert.equal(byId.get("travel-helper-v1")?.["root"], "/models/Qwen-TravelHelper-Lora");

  await assert.rejects(
    client.completions.create({ model: "nope", prompt: "x", max_tokens: 1 }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal((e.error as { message: string }).message, "The model `nope` does not exist.");
      return true;
    },
  );
  await assert.rejects(
    client.completions.create({ model: "/model/qwen", prompt: "x y z", max_tokens: 8190 }),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.match(
        (e.error as { message: string }).message,
        /maximum context length is 8192 tokens.*8193 tokens/,
      );
      return true;
    },
  );
});
