/**
 * The data plane's upstream client against real servers: body framings (length, chunked,
 * until close), keep-alive reuse, the keep-alive race (a reused connection closed by the server
 * is retried once on a fresh one), connection failures, aborts in every phase, and garbage.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import type { HeaderFields } from "../../src/proxy/http1/header-lines.ts";
import {
  UpstreamEndpoint,
  UpstreamError,
  type UpstreamHandler,
  type UpstreamRequest,
} from "../../src/proxy/http1/upstream-client.ts";
import { deadPort } from "../helpers/fake-upstream.ts";

interface Result {
  status?: number;
  headers?: HeaderFields;
  body: string;
  error?: Error;
  events: string[];
}

const REQUEST: UpstreamRequest = {
  method: "POST",
  path: "/v1/completions",
  headers: { "content-type": "application/json" },
  body: Buffer.from('{"model":"m"}'),
};

/** Dispatches and collects; `during` may act on the controller at each event. */
function run(
  ep: UpstreamEndpoint,
  during: (event: string, c: Parameters<UpstreamHandler["onResponseData"]>[0]) => void = () => {},
  request: UpstreamRequest = REQUEST,
): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { body: "", events: [] };
    const handler: UpstreamHandler = {
      onRequestStart(c) {
        r.events.push("start");
        during("start", c);
      },
      onResponseStart(c, status, headers) {
        r.events.push("head");
        r.status = status;
        r.headers = headers;
        during("head", c);
      },
      onResponseData(c, chunk) {
        r.body += chunk.toString();
        during("data", c);
      },
      onResponseEnd() {
        r.events.push("end");
        resolve(r);
      },
      onResponseError(_c, e) {
        r.events.push("error");
        r.error = e;
        resolve(r);
      },
    };
    ep.dispatch(request, handler);
  });
}

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as { port: number }).port;
}

test("length, chunked and close-delimited bodies; keep-alive reuses one connection", async () => {
  let connections = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.headers["x-mode"] === "close") {
        res.writeHead(200, { connection: "close" });
        res.end("until close");
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: a\n\n");
      setTimeout(() => res.end("data: b\n\n"), 20);
    });
  });
  server.on("connection", () => connections++);
  const port = await listen(server);
  const ep = new UpstreamEndpoint("127.0.0.1", port);
  try {
    const a = await run(ep);
    const b = await run(ep);
    assert.equal(a.status, 200);
    assert.equal(a.headers?.["content-type"], "text/event-stream");
    assert.equal(a.body, "data: a\n\ndata: b\n\n");
    assert.deepEqual(b.events, ["start", "head", "end"]);
    assert.equal(connections, 1, "the second request reused the connection");
    const c = await run(ep, undefined, { ...REQUEST, headers: { "x-mode": "close" } });
    assert.equal(c.body, "until close");
    assert.deepEqual(c.events, ["start", "head", "end"]);
  } finally {
    ep.destroy();
    server.close();
  }
});

test("a reused connection the server closed while idle is retried once on a fresh one", async () => {
  let connections = 0;
  const server = createNetServer((s: Socket) => {
    connections++;
    const nth = connections;
    let served = 0;
    s.on("data", () => {
      served++;
      // The first connection answers once, then drops the next request unanswered.
      if (nth === 1 && served === 2) {
        s.destroy();
        return;
      }
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
  });
  const port = await listen(server);
  const ep = new UpstreamEndpoint("127.0.0.1", port);
  try {
    assert.equal((await run(ep)).body, "ok");
    const second = await run(ep);
    assert.equal(second.error, undefined);
    assert.equal(second.body, "ok");
    assert.equal(connections, 2);
  } finally {
    ep.destroy();
    server.close();
  }
});

test("refused connections, resets mid-response and garbage are told apart", async () => {
  const refused = new UpstreamEndpoint("127.0.0.1", await deadPort());
  const r1 = await run(refused);
  assert.ok(r1.error instanceof UpstreamError && r1.error.code === "connect", String(r1.error));
  refused.destroy();

  const server = createNetServer((s: Socket) => {
    s.once("data", () => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      setTimeout(() => s.destroy(), 20);
    });
  });
  const port = await listen(server);
  const ep = new UpstreamEndpoint("127.0.0.1", port);
  const r2 = await run(ep);
  assert.equal(r2.body, "partial");
  assert.ok(r2.error instanceof UpstreamError && r2.error.code === "reset");
  assert.deepEqual(r2.events, ["start", "head", "error"]);
  ep.destroy();
  server.close();

  const junk = createNetServer((s: Socket) => s.once("data", () => s.write("SSH-2.0-OpenSSH_9.0\r\n\r\n")));
  const jp = await listen(junk);
  const je = new UpstreamEndpoint("127.0.0.1", jp);
  const r3 = await run(je);
  assert.ok(r3.error instanceof UpstreamError && r3.error.code === "protocol");
  je.destroy();
  junk.close();
});

test("abort works before a connection exists, while queued, and mid-response; the error comes once", async () => {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n");
  });
  const port = await listen(server);
  const ep = new UpstreamEndpoint("127.0.0.1", port, { maxConnections: 1 });
  try {
    const early = await run(ep, (event, c) => {
      if (event === "start") c.abort(new Error("gone early"));
    });
    assert.deepEqual(early.events, ["start", "error"]);
    assert.equal(early.error?.message, "gone early");

    const busy = run(ep, (event, c) => {
      if (event === "data") setTimeout(() => c.abort(new Error("gone mid-stream")), 10);
    });
    let queuedController: Parameters<UpstreamHandler["onRequestStart"]>[0] | undefined;
    const queued = run(ep, (event, c) => {
      if (event === "start") queuedController = c;
    });
    queuedController?.abort(new Error("gone while queued"));
    const q = await queued;
    assert.deepEqual(q.events, ["start", "error"]);
    const b = await busy;
    assert.deepEqual(b.events, ["start", "head", "error"]);
    assert.equal(b.body, "data: first\n\n");
  } finally {
    ep.destroy();
    server.close();
  }
});

test("the chunks of one read come as one Buffer; handed-over Buffers survive later reads of any connection", async () => {
  // Each server writes its head split mid-line, then three chunks in one write, then more later.
  const server = createNetServer((s: Socket) => {
    s.once("data", async () => {
      const tag = Math.random().toString(36).slice(2, 8);
      const pause = () => new Promise((r) => setTimeout(r, 15));
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-st");
      await pause();
      s.write("ream\r\ntransfer-encoding: chunked\r\n\r\n");
      await pause();
      const event = (i: number) => `data: {"n":${i},"tag":"${tag}","text":"é€"}\n\n`;
      const chunk = (i: number) => `${Buffer.byteLength(event(i)).toString(16)}\r\n${event(i)}\r\n`;
      s.write(chunk(0) + chunk(1) + chunk(2));
      for (let i = 3; i < 8; i++) {
        await pause();
        s.write(chunk(i));
      }
      await pause();
      s.write("0\r\n\r\n");
    });
  });
  const port = await listen(server);
  const ep = new UpstreamEndpoint("127.0.0.1", port);
  try {
    const runs = [0, 1, 2].map(
      () =>
        new Promise<Buffer[]>((resolve, reject) => {
          const kept: Buffer[] = [];
          ep.dispatch(REQUEST, {
            onRequestStart() {},
            onResponseStart() {},
            onResponseData(_c, chunk) {
              kept.push(chunk);
            },
            onResponseEnd: () => resolve(kept),
            onResponseError: (_c, e) => reject(e),
          });
        }),
    );
    for (const kept of await Promise.all(runs)) {
      const events = Buffer.concat(kept).toString().split("\n\n").filter(Boolean);
      const tag = JSON.parse(events[0]!.slice(6)).tag;
      assert.deepEqual(
        events,
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `data: {"n":${i},"tag":"${tag}","text":"é€"}`),
        "every kept Buffer still holds its own bytes",
      );
      assert.equal(kept[0]!.toString().split("\n\n").length - 1, 3, "three chunks of one read: one Buffer");
    }
  } finally {
    ep.destroy();
    server.close();
  }
});
