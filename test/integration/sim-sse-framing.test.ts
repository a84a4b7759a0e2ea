import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

let sim: SimProcess;

before(async () => {
  sim = await startSimProcess(["--model", "m"]);
});

after(async () => {
  await sim?.stop();
});

/** What `curl -N` prints: the raw response bytes, plus status and headers. */
function raw(url: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", "x-request-id": "t1" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), text }),
        );
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const W = '" [a-z]+"';

test("completion stream: vLLM's SSE framing byte for byte", async () => {
  const r = await raw(`${sim.urls[0]}/v1/completions`, {
    model: "m",
    prompt: "p q",
    max_tokens: 2,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  });
  assert.equal(r.status, 200);
  assert.equal(r.type, "text/event-stream; charset=utf-8");
  const head = '\\{"id":"cmpl-t1","object":"text_completion","created":\\d+,"model":"m","choices":\\[';
  const expected = new RegExp(
    "^" +
      `data: ${head}\\{"index":0,"text":${W},"logprobs":null,"finish_reason":null,"stop_reason":null\\}\\]\\}\n\n` +
      `data: ${head}\\{"index":0,"text":${W},"logprobs":null,"finish_reason":"length","stop_reason":null\\}\\]\\}\n\n` +
      `data: ${head}\\],"usage":\\{"prompt_tokens":2,"total_tokens":4,"completion_tokens":2\\}\\}\n\n` +
      "data: \\[DONE\\]\n\n$",
  );
  assert.match(r.text, expected);
});

test("chat stream: role chunk first, finish_reason on the last token, no usage unless asked", async () => {
  const r = await raw(`${sim.urls[0]}/v1/chat/completions`, {
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 2,
    stream: true,
    ignore_eos: true,
  });
  const head =
    '\\{"id":"chatcmpl-t1","object":"chat.completion.chunk","created":\\d+,"model":"m","choices":\\[';
  const expected = new RegExp(
    "^" +
      `data: ${head}\\{"index":0,"delta":\\{"role":"assistant","content":""\\},"logprobs":null,"finish_reason":null\\}\\]\\}\n\n` +
      `data: ${head}\\{"index":0,"delta":\\{"content":${W}\\},"logprobs":null,"finish_reason":null\\}\\]\\}\n\n` +
      `data: ${head}\\{"index":0,"delta":\\{"content":${W}\\},"logprobs":null,"finish_reason":"length","stop_reason":null\\}\\]\\}\n\n` +
      "data: \\[DONE\\]\n\n$",
  );
  assert.match(r.text, expected);
});

test("errors: stream_options without stream is a 400 in vLLM's error shape", async () => {
  const r = await raw(`${sim.urls[0]}/v1/completions`, {
    model: "m",
    prompt: "x",
    stream_options: { include_usage: true },
  });
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.text), {
    error: {
      message: "Stream options can only be defined when `stream=True`.",
      type: "BadRequestError",
      param: "stream_options",
      code: 400,
    },
  });
});

test("continuous_usage_stats: every chunk carries usage so far", async () => {
  const r = await raw(`${sim.urls[0]}/v1/chat/completions`, {
    model: "m",
    messages: [{ role: "user", content: "a b c" }],
    max_tokens: 2,
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
    ignore_eos: true,
  });
  const frames = r.text.split("\n\n").filter((f) => f.length > 0);
  assert.equal(frames.length, 5); // role, 2 tokens, final usage, [DONE]
  const usages = frames.slice(0, 4).map((f) => (JSON.parse(f.slice(6)) as { usage: unknown }).usage);
  assert.deepEqual(usages, [
    { prompt_tokens: 3, total_tokens: 3, completion_tokens: 0 },
    { prompt_tokens: 3, total_tokens: 4, completion_tokens: 1 },
    { prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 },
    { prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 },
  ]);
});
