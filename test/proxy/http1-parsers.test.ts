/**
 * The HTTP/1.1 parsers of the data plane: request heads (strict where laxness smuggles), response
 * heads, and the chunked decoder — table-driven cases plus properties (any split of the input
 * decodes the same; arbitrary bytes never throw anything but the decoder's own error).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ChunkedDecodeError, ChunkedDecoder } from "../../src/proxy/http1/chunked-decoder.ts";
import { parseRequestHead } from "../../src/proxy/http1/request-head.ts";
import { parseResponseHead } from "../../src/proxy/http1/response-head.ts";

const LIMITS = { maxHeadBytes: 16384, maxHeaderFields: 10 };
const req = (lines: string[]) => parseRequestHead(lines.join("\r\n"), LIMITS);

test("a plain request head: method, target, lower-cased headers, framing, keep-alive", () => {
  const r = req([
    "POST /v1/completions?x=1 HTTP/1.1",
    "Host: gw",
    "Content-Type: application/json",
    "Content-Length: 42",
    "X-Multi: a",
    "x-multi: b",
  ]);
  assert.ok("head" in r);
  assert.equal(r.head.method, "POST");
  assert.equal(r.head.url, "/v1/completions?x=1");
  assert.equal(r.head.headers["content-type"], "application/json");
  assert.equal(r.head.headers["x-multi"], "a, b");
  assert.deepEqual(r.head.body, { kind: "length", length: 42 });
  assert.equal(r.head.keepAlive, true);
  assert.equal(r.head.expectContinue, false);
});

test("HTTP/1.0 closes unless keep-alive is asked; Connection: close on 1.1; Expect: 100-continue", () => {
  const h10 = req(["GET / HTTP/1.0"]);
  assert.ok("head" in h10 && !h10.head.keepAlive);
  const h10k = req(["GET / HTTP/1.0", "Connection: Keep-Alive"]);
  assert.ok("head" in h10k && h10k.head.keepAlive);
  const close = req(["GET / HTTP/1.1", "Host: a", "Connection: close"]);
  assert.ok("head" in close && !close.head.keepAlive);
  const cont = req(["POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Expect: 100-continue"]);
  assert.ok("head" in cont && cont.head.expectContinue);
  const chunked = req(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"]);
  assert.ok("head" in chunked);
  assert.deepEqual(chunked.head.body, { kind: "chunked" });
});

test("refused heads: smuggling shapes, bad targets, bad syntax, limits", () => {
  const cases: [string[], number, RegExp][] = [
    [["POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Transfer-Encoding: chunked"], 400, /both/],
    [["POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Length: 6"], 400, /Content-Length/],
    [["POST / HTTP/1.1", "Host: a", "Content-Length: -1"], 400, /Content-Length/],
    [["POST / HTTP/1.1", "Host: a", "Content-Length: 1e3"], 400, /Content-Length/],
    [["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked"], 501, /not supported/],
    [["POST / HTTP/1.0", "Transfer-Encoding: chunked"], 400, /HTTP\/1.0/],
    [["GET http://evil/ HTTP/1.1", "Host: a"], 400, /origin-form/],
    [["OPTIONS * HTTP/1.1", "Host: a"], 400, /asterisk/],
    [["GET /a b HTTP/1.1", "Host: a"], 400, /request line/],
    [["GET / HTTP/2.0", "Host: a"], 505, /not supported/],
    [["GET / HTTX/1.1", "Host: a"], 400, /version/],
    [["GET / HTTP/1.1"], 400, /Host/],
    [["GET / HTTP/1.1", "Host: a", " folded"], 400, /folding/],
    [["GET / HTTP/1.1", "Host : a"], 400, /header name/],
    [["GET / HTTP/1.1", "Host: a", "X: a\u0000b"], 400, /control/],
    [["GET / HTTP/1.1", "Host: a", "X: a\rb"], 400, /bare CR/],
    [["G(T / HTTP/1.1", "Host: a"], 400, /method/],
    [["GET /\u00e9 HTTP/1.1", "Host: a"], 400, /percent-encoded/],
    [["GET / HTTP/1.1", ...Array.from({ length: 11 }, (_, i) => `h${i}: v`)], 431, /header fields/],
  ];
  for (const [lines, status, message] of cases) {
    const r = req(lines);
    assert.ok("error" in r, `refused: ${JSON.stringify(lines)}`);
    assert.equal(r.error.status, status, JSON.stringify(lines));
    assert.match(r.error.message, message, JSON.stringify(lines));
  }
});

test("a __proto__ header is an ordinary field, not a prototype", () => {
  const r = req(["GET / HTTP/1.1", "Host: a", "__proto__: x", "constructor: y"]);
  assert.ok("head" in r);
  assert.equal(Object.getOwnPropertyDescriptor(r.head.headers, "__proto__")?.value, "x");
  assert.equal(r.head.headers["constructor"], "y");
  // Nothing is inherited: names Object.prototype has are absent unless sent.
  const plain = req(["GET / HTTP/1.1", "Host: a"]);
  assert.ok("head" in plain);
  for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__"])
    assert.equal((plain.head.headers as Record<string, unknown>)[name], undefined, name);
  assert.deepEqual(Object.keys(plain.head.headers), ["host"]);
});

test("response heads: status, framing, keep-alive and its timeout hint", () => {
  const ok = parseResponseHead("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nkeep-alive: timeout=5");
  assert.ok("head" in ok);
  assert.deepEqual(
    [ok.head.status, ok.head.body, ok.head.keepAlive, ok.head.keepAliveTimeoutMs],
    [200, { kind: "length", length: 3 }, true, 5000],
  );
  const sse = parseResponseHead(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked",
  );
  assert.ok("head" in sse && sse.head.body.kind === "chunked");
  const closeDelimited = parseResponseHead("HTTP/1.1 200 OK\r\ncontent-type: text/plain");
  assert.ok(
    "head" in closeDelimited && closeDelimited.head.body.kind === "close" && !closeDelimited.head.keepAlive,
  );
  const noReason = parseResponseHead("HTTP/1.1 204");
  assert.ok("head" in noReason && noReason.head.body.kind === "length");
  assert.ok("error" in parseResponseHead("HTTP/1.1 2000 OK"));
  assert.ok("error" in parseResponseHead("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2"));
  assert.ok("error" in parseResponseHead("SSH-2.0-OpenSSH"));
});

function chunkedEncode(parts: Buffer[], ext = false): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (p.length === 0) continue;
    out.push(Buffer.from(`${p.length.toString(16)}${ext ? ";name=value" : ""}\r\n`), p, Buffer.from("\r\n"));
  }
  out.push(Buffer.from("0\r\nx-trailer: 1\r\n\r\n"));
  return Buffer.concat(out);
}

function decodeAll(wire: Buffer, splits: number[]): { payload: Buffer; used: number; done: boolean } {
  const got: Buffer[] = [];
  const d = new ChunkedDecoder((p) => got.push(Buffer.from(p)));
  let used = 0;
  let pos = 0;
  for (const cut of [...splits.filter((s) => s > 0 && s < wire.length).sort((a, b) => a - b), wire.length]) {
    if (cut <= pos) continue;
    used += d.push(wire.subarray(pos, cut));
    pos = cut;
  }
  return { payload: Buffer.concat(got), used, done: d.done };
}

test("chunked decoding gives the same payload however the input is split", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(4000), { maxLength: 12 }),
      fc.boolean(),
      (parts, splits, ext) => {
        const buffers = parts.map((p) => Buffer.from(p));
        const wire = chunkedEncode(buffers, ext);
        const next = Buffer.from("GET / HTTP/1.1\r\n");
        const r = decodeAll(Buffer.concat([wire, next]), splits);
        assert.ok(r.done);
        assert.deepEqual(r.payload, Buffer.concat(buffers));
        assert.equal(r.used, wire.length, "stops exactly at the end of the body");
      },
    ),
    { numRuns: 300 },
  );
});

test("malformed chunked bodies are refused with the decoder's error; arbitrary bytes never throw anything else", () => {
  for (const bad of [
    "zz\r\n",
    "5\r\nabcdeXY",
    "5\nabcde\r\n",
    `${"f".repeat(20)}\r\n`,
    `1;${"x".repeat(5000)}\r\n`,
  ]) {
    assert.throws(
      () => new ChunkedDecoder(() => {}).push(Buffer.from(bad)),
      ChunkedDecodeError,
      bad.slice(0, 20),
    );
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        new ChunkedDecoder(() => {}).push(Buffer.from(bytes));
      } catch (e) {
        assert.ok(e instanceof ChunkedDecodeError);
      }
    }),
    { numRuns: 500 },
  );
});

test("the request-head parser never throws on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      const r = parseRequestHead(text, LIMITS);
      assert.ok("head" in r || "error" in r);
    }),
    { numRuns: 1000 },
  );
});

test("size lines read from the bytes (a whole line in one input) decode as the general path does, split byte by byte", () => {
  const outcome = (wire: Buffer, bytewise: boolean): string => {
    const got: Buffer[] = [];
    const d = new ChunkedDecoder((p) => got.push(Buffer.from(p)));
    try {
      if (bytewise) for (let i = 0; i < wire.length; i++) d.push(wire.subarray(i, i + 1));
      else d.push(wire);
    } catch (e) {
      assert.ok(e instanceof ChunkedDecodeError);
      return `error: ${e.message}`;
    }
    return `${d.done} ${Buffer.concat(got).toString("latin1")}`;
  };
  const sizeLine = fc.oneof(
    fc.constantFrom("5", "05", "0005", "A", "a", "1F", "1f", "5 ", "5;x=1", "5\t", " 5", "", "0x5", "g"),
    fc.stringMatching(/^[0-9a-fA-F]{12,14}$/),
  );
  fc.assert(
    fc.property(sizeLine, fc.constantFrom("\r\n", "\n", "\r"), (size, eol) => {
      const wire = Buffer.from(`${size}${eol}${"x".repeat(40)}\r\n0\r\n\r\n`, "latin1");
      assert.equal(outcome(wire, false), outcome(wire, true), JSON.stringify(size + eol));
    }),
    { numRuns: 400 },
  );
  const wire = Buffer.from("A\r\n0123456789\r\n0\r\n\r\n");
  assert.equal(outcome(wire, false), "true 0123456789");
});
