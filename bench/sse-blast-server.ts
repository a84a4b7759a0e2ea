/**
 * A minimal vLLM-shaped SSE server for `bench/client.ts`: answers every POST with `max_tokens`
 * completion chunks (pre-rendered, written 16 events per write), a usage chunk and [DONE], doing
 * as little work as possible so that the client's own ceiling shows. Prints "listening <url>".
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const EVENT = Buffer.from(
  'data: {"id":"cmpl-1","object":"text_completion","created":0,"model":"m","choices":[{"index":0,"text":" word","logprobs":null,"finish_reason":null,"stop_reason":null}]}\n\n',
);
const groups = new Map<number, Buffer>();
const group = (n: number) => {
  let g = groups.get(n);
  if (!g) {
    g = Buffer.concat(Array.from({ length: n }, () => EVENT));
    groups.set(n, g);
  }
  return g;
};

const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => {
    body += c;
  });
  req.on("end", () => {
    const m = /"max_tokens":(\d+)/.exec(body);
    const n = m ? Number(m[1]) : 16;
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let left = n; left > 0; left -= 16) res.write(group(Math.min(16, left)));
    res.end(
      `data: {"id":"cmpl-1","object":"text_completion","created":0,"model":"m","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":${n},"total_tokens":${n + 8}}}\n\ndata: [DONE]\n\n`,
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
