/**
 * The data plane's HTTP/1.1 server over real sockets: keep-alive, pipelining, chunked bodies,
 * 100-continue, limits (413 from the declared length, 431, 400 with a JSON body), the request
 * timeout against slow clients (408), the connection cap, and client aborts.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BodyError,
  createHttp1Server,
  type Http1Handler,
  type Http1Server,
} from "../../src/proxy/http1/server.ts";

let handler: Http1Handler;
let srv: Http1Server;
let port = 0;
let dropped = 0;

before(async () => {
  srv = createHttp1Server((req, res) => handler(req, res), {
    bodyLimit: 1000,
    requestTimeoutMs: 300,
    keepAliveTimeoutMs: 2000,
    maxConnections: 20,
    onConnectionsDropped: (n) => {
      dropped += n;
    },
  });
  await new Promise<void>((resolve) => srv.server.listen(0, "127.0.0.1", resolve));
  port = (srv.server.address() as { port: number }).port;
});
after(() => srv.close());

/** Echoes method, url and body length as JSON. */
const echo: Http1Handler = (req, res) => {
  req.body().then(
    (body) => {
      const text = JSON.stringify({
        method: req.method,
        url: req.url,
        length: body.length,
        body: body.toString(),
      });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
    (e: BodyError) => {
      res.writeHead(e.status, { "content-length": Buffer.byteLength(e.message) });
      res.end(e.message);
    },
  );
};

/** A raw client: send bytes, collect everything the server sends until it closes or `ms` passes. */
async function raw(bytes: string | Buffer, ms = 600, keep?: (s: Socket) => Promise<void>): Promise<string> {
  const s = connect(port, "127.0.0.1");
  let got = "";
  s.on("data", (d) => {
    got += d.toString("latin1");
  });
  const closed = new Promise<void>((r) => s.on("close", () => r()));
  s.on("error", () => {});
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.write(bytes);
  if (keep) await keep(s);
  await Promise.race([closed, sleep(ms)]);
  s.destroy();
  return got;
}

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

test("keep-alive and pipelining: two requests in one write get two answers, in order", async () => {
  handler = echo;
  const a = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  const b = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nde";
  const text = await raw(a + b, 300);
  assert.deepEqual(statuses(text), [200, 200]);
  assert.ok(text.indexOf('"url":"/a"') < text.indexOf('"url":"/b"'));
  assert.match(text, /"body":"abc"/);
  assert.match(text, /"body":"de"/);
});

test("a chunked request body is decoded; HTTP/1.0 closes after the answer", async () => {
  handler = echo;
  const text = await raw(
    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;e=1\r\nde\r\n0\r\n\r\n",
    300,
  );
  assert.match(text, /"length":5,"body":"abcde"/);
  const t10 = await raw("POST /d HTTP/1.0\r\nContent-Length: 1\r\n\r\nz", 2000);
  assert.match(t10, /connection: close/);
  assert.match(t10, /"body":"z"/);
});

test("a declared body over the limit gets 413 before any of it is sent, then the connection closes", async () => {
  handler = echo;
  const text = await raw("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n", 2000);
  assert.deepEqual(statuses(text), [413]);
  assert.match(text, /connection: close/);
  const chunked = await raw(
    `POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n${"x".repeat(2000)}\r\n`,
    2000,
  );
  assert.deepEqual(statuses(chunked), [413]);
});

test("Expect: 100-continue is answered when the handler reads the body", async () => {
  handler = echo;
  const text = await raw(
    "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    400,
    async (s) => {
      await sleep(100);
      s.write("wxyz");
    },
  );
  assert.deepEqual(statuses(text), [100, 200]);
  assert.match(text, /"body":"wxyz"/);
});

test("slow clients: a stalled body gets 408, a stalled head gets 408, both close", async () => {
  handler = echo;
  const body = await raw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab", 2000);
  assert.deepEqual(statuses(body), [408]);
  const head = await raw("POST /slow HTTP/1.1\r\nHost: x\r\n", 2000);
  assert.deepEqual(statuses(head), [408]);
});

test("malformed or oversized heads get a JSON error and the connection closes", async () => {
  handler = echo;
  const bad = await raw("GET http://other/ HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
  assert.deepEqual(statuses(bad), [400]);
  assert.match(bad, /"code":"invalid_http_request"/);
  const big = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(20000)}\r\n\r\n`, 2000);
  assert.deepEqual(statuses(big), [431]);
  const lf = await raw("GET / HTTP/1.1\nHost: x\n\n", 2000);
  assert.deepEqual(statuses(lf), [400]);
});

test("a streamed reply is chunked; a client that goes away is noticed by onClose", async () => {
  let closed!: () => void;
  const sawClose = new Promise<void>((r) => {
    closed = r;
  });
  handler = (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    res.write("data: 1\n\n");
    res.onClose(() => closed());
  };
  const text = await raw("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 200);
  assert.match(text, /transfer-encoding: chunked\r\n/);
  assert.match(text, /\r\n9\r\ndata: 1\n\n\r\n/);
  await sawClose;
});

test("connections beyond the cap are refused and reported", async () => {
  handler = echo;
  const sockets: Socket[] = [];
  for (let i = 0; i < 25; i++) {
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    sockets.push(s);
  }
  // Reports come at most once per second: wait for them (a loaded machine accepts slowly).
  for (let waited = 0; dropped < 5 && waited < 8000; waited += 100) await sleep(100);
  for (const s of sockets) s.destroy();
  assert.ok(dropped >= 5, `dropped ${dropped}`);
});
