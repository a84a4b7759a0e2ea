import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake server saw, for assertions. */
export interface FakeServerLog {
  bodies: Array<Record<string, unknown>>;
  headers: Array<IncomingMessage["headers"]>;
  /** Highest number of requests streaming at once. */
  peakInFlight: number;
  /** Wall time each completion request arrived, ms (performance.now of this process). */
  arrivals: number[];
}

/** Options of the fake vLLM-style server used by client tests before/alongside the real simulator. */
export interface FakeServerOptions {
  /** Delay before the first token, ms. */
  ttftMs?: number;
  /** Delay between tokens, ms. */
  itlMs?: number;
  /** Status to answer for every n-th request (1-based), e.g. {every: 3, status: 503}. */
  failEvery?: { every: number; status: number };
  /** Send the whole stream in one write (all tokens arrive in one chunk). */
  oneWrite?: boolean;
  /** /tokenize counts this many tokens per word (default 1, like the simulator). */
  tokensPerWord?: number;
  /** Answer /detokenize (default true): one word per `tokensPerWord` tokens. */
  detokenize?: boolean;
}

/**
 * A tiny vLLM-like server: /v1/completions and /v1/chat/completions stream `max_tokens` chunks
 * (one word each), then a usage chunk and [DONE]; `X-Return-Error: <status>` forces an error;
 * /tokenize counts words; /v1/models lists "m"; /metrics exposes running/waiting/KV gauges.
 */
export async function startFakeServer(opts: FakeServerOptions = {}) {
  const log: FakeServerLog = { bodies: [], headers: [], peakInFlight: 0, arrivals: [] };
  let inFlight = 0;
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const url = req.url ?? "/";
      if (url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model", root: "/models/m" }] }));
        return;
      }
      if (url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(
          `# HELP x\nvllm:num_requests_running{model_name="m",engine="0"} ${inFlight}\n` +
            `vllm:num_requests_waiting{model_name="m",engine="0"} 0\nvllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.25\n`,
        );
        return;
      }
      if (url === "/tokenize") {
        const body = JSON.parse(text) as { prompt: string };
        const n = body.prompt.split(/\s+/).filter(Boolean).length * (opts.tokensPerWord ?? 1);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ count: n, tokens: Array.from({ length: n }, (_, i) => i), max_model_len: 100000 }),
        );
        return;
      }
      if (url === "/detokenize" && opts.detokenize !== false) {
        const body = JSON.parse(text) as { tokens: number[] };
        const words = Math.floor(body.tokens.length / (opts.tokensPerWord ?? 1));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ prompt: Array.from({ length: words }, () => "w").join(" ") }));
        return;
      }
      const body = JSON.parse(text) as Record<string, unknown>;
      log.bodies.push(body);
      log.headers.push(req.headers);
      log.arrivals.push(performance.now());
      count++;
      const forced = req.headers["x-return-error"];
      const failStatus =
        typeof forced === "string"
          ? Number(forced)
          : opts.failEvery && count % opts.failEvery.every === 0
            ? opts.failEvery.status
            : 0;
      if (failStatus) {
        res.writeHead(failStatus, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "injected", type: "X", param: null, code: failStatus } }));
        return;
      }
      inFlight++;
      log.peakInFlight = Math.max(log.peakInFlight, inFlight);
      const chat = url.includes("chat");
      const n = Number(body["max_tokens"] ?? body["max_completion_tokens"] ?? 16);
      const prompt = typeof body["prompt"] === "string" ? body["prompt"] : "";
      const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (i: number) =>
        chat
          ? `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"w${i} "},"finish_reason":null}]}\n\n`
          : `data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":"w${i} ","logprobs":null,"finish_reason":null}]}\n\n`;
      const tail = `data: {"id":"c","choices":[],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${n},"total_tokens":${promptTokens + n}}}\n\ndata: [DONE]\n\n`;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      if (opts.oneWrite) {
        let all = "";
        for (let i = 0; i < n; i++) all += event(i);
        res.end(all + tail);
        inFlight--;
        return;
      }
      if (opts.ttftMs) await sleep(opts.ttftMs);
      for (let i = 0; i < n; i++) {
        if (i > 0 && opts.itlMs) await sleep(opts.itlMs);
        res.write(event(i));
      }
      res.end(tail);
      inFlight--;
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
