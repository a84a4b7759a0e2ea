/** A tiny programmable model server on a loopback port (port 0) for proxy tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Record<string, unknown>;
}

export type FakeHandler = (
  req: ReceivedRequest,
  res: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

export interface FakeUpstream {
  readonly port: number;
  readonly address: string;
  readonly received: ReceivedRequest[];
  /** Models listed at GET /v1/models. */
  served: { id: string; parent?: string | null }[];
  /** Answer of GET /metrics (the gateway scrapes it; not recorded in `received`). Default: idle vLLM. */
  metricsPage: string;
  handler: FakeHandler;
  close(): Promise<void>;
}

/** A vLLM metrics page with nothing waiting or running and an empty KV cache. */
export const IDLE_VLLM_METRICS =
  "vllm:num_requests_waiting 0\nvllm:num_requests_running 0\nvllm:kv_cache_usage_perc 0\n";

/** Answers like vLLM: JSON echoing `model`, or SSE when `stream` is true (3 tokens). */
export const echoHandler: FakeHandler = (req, res) => {
  const model = JSON.stringify(req.body["model"]);
  if (req.body["stream"] === true) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const t of ["a", "b", "c"]) res.write(`data: {"model":${model},"choices":[{"text":"${t}"}]}\n\n`);
    res.end("data: [DONE]\n\n");
    return;
  }
  const body = JSON.stringify({
    object: "text_completion",
    model: req.body["model"],
    choices: [{ text: "ok" }],
    usage: { prompt_tokens: 3, completion_tokens: 1 },
  });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
};

export async function startFakeUpstream(handler: FakeHandler = echoHandler): Promise<FakeUpstream> {
  const sockets = new Set<import("node:net").Socket>();
  const fake: FakeUpstream = {
    port: 0,
    address: "",
    received: [],
    served: [],
    metricsPage: IDLE_VLLM_METRICS,
    handler,
    close: async () => {},
  };
  const server: Server = createServer((raw, res) => {
    if (raw.method === "GET" && raw.url?.split("?")[0] === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(fake.metricsPage);
      return;
    }
    if (raw.method === "GET" && raw.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: fake.served.map((m) => ({ object: "model", parent: null, ...m })),
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    raw.on("data", (c: Buffer) => chunks.push(c));
    raw.on("end", () => {
      const req = {
        url: raw.url ?? "",
        headers: raw.headers,
        body: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
      };
      fake.received.push(req);
      void fake.handler(req, res, raw);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(fake, {
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return fake;
}

/** A loopback port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
