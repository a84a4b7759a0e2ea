/**
 * The gateway's HTTP/1.1 server, directly on node:net sockets. Hand-written because the data
 * plane's cost per request is the product's headline number: node:http spends ~2× the CPU of
 * this path on its stream objects (measured on a bare proxy: node:http + undici 43–56 µs per
 * request, this design 17–20 µs, nginx 10–12 µs; docs/benchmarks.md). It does only what a gateway
 * in front of model servers needs, strictly:
 *
 * - keep-alive and pipelining (one request at a time, in order), HTTP/1.0 and `Connection: close`;
 * - bodies framed by Content-Length or chunked, collected whole up to `bodyLimit` (413 from the
 *   declared length, before reading it), seen chunk by chunk by the handler's inspector (which
 *   may refuse them), `Expect: 100-continue` answered when the body is wanted; a refused body is
 *   not read further (the connection lingers 2 s for the answer, paused); a large upload yields
 *   to the other connections after each read;
 * - a request timeout from the first byte to the end of the body (408), an idle keep-alive
 *   timeout, head size and field-count limits (431), a connection cap;
 * - responses with Content-Length, or chunked when streamed; head and first bytes coalesced into
 *   one write; backpressure through `write()`'s result and `onceDrain`.
 */
import { createServer, type Server, type Socket } from "node:net";
import { ChunkedDecodeError, ChunkedDecoder } from "./chunked-decoder.ts";
import type { HeaderFields } from "./header-lines.ts";
import { parseRequestHead, type RequestHead } from "./request-head.ts";
import { writeChunk, writeFrame } from "./write-frame.ts";

/** A request as the handler sees it: the head now, the body on demand. */
export interface Http1Request {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Lower-cased names; repeated fields joined with ", ". */
  readonly headers: HeaderFields;
  /**
   * The whole body. Rejects with BodyError: 413 over the limit, 400 malformed chunking or refused
   * by `inspect`, 408 when it stalls past the request timeout. Call it at most once.
   */
  body(inspect?: BodyInspector): Promise<Buffer>;
}

/**
 * Sees each piece of a body as it arrives (bytes already received first), in order; returns
 * false to refuse the body: it is answered 400 and the rest is discarded unread.
 */
export type BodyInspector = (chunk: Buffer) => boolean;

/** Why a body could not be read; the status to answer with. */
export class BodyError extends Error {
  readonly status: 400 | 408 | 413;
  constructor(status: 400 | 408 | 413, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

/** The response side of one exchange. */
export interface Http1Reply {
  /** Status and headers; with no `content-length` the body is sent chunked. Sent with the first bytes. */
  writeHead(status: number, headers: Readonly<Record<string, string | number | readonly string[]>>): void;
  /** Sends the head now (streams: the client learns the status before the first event). */
  flushHeaders(): void;
  /** Queues bytes; false when the client's socket is full (wait for onceDrain). */
  write(chunk: Buffer | string): boolean;
  /** Sends the rest and ends the response; the connection then serves the next request or closes. */
  end(chunk?: Buffer | string): void;
  /** Resets the connection (a broken response). */
  destroy(): void;
  /**
   * Closes the connection once what was written is flushed, without finishing the response: the
   * client sees a truncated body (a broken stream), after whatever was sent last.
   */
  truncate(): void;
  readonly headersSent: boolean;
  /** The whole response was handed to the socket. */
  readonly finished: boolean;
  /** The connection is gone. */
  readonly destroyed: boolean;
  /** Runs `fn` once when the socket can take more after write() returned false. */
  onceDrain(fn: () => void): void;
  /** Runs `fn` once if the connection closes before the response finished (the client went away). */
  onClose(fn: () => void): void;
}

export type Http1Handler = (req: Http1Request, reply: Http1Reply) => void;

export interface Http1ServerOptions {
  /** Max request body, bytes (413 beyond). */
  readonly bodyLimit: number;
  /** Request line + headers, bytes (431 beyond). Default 16 KiB. */
  readonly maxHeadBytes?: number;
  /** Header fields per request (431 beyond). Default 100. */
  readonly maxHeaderFields?: number;
  /** From a request's first byte to the end of its body, ms (408 beyond). Default 30,000. */
  readonly requestTimeoutMs?: number;
  /** Idle time between requests on a connection, ms. Default 65,000. */
  readonly keepAliveTimeoutMs?: number;
  /** Open connections at most; more are refused at accept. Default 16,384. */
  readonly maxConnections?: number;
  /** Told once per second at most while connections are refused for the cap. */
  readonly onConnectionsDropped?: (dropped: number) => void;
  /**
   * Told once per second at most while accepting fails, with the failures since the last report;
   * the server keeps listening (without a listener such an error would end the process). libuv
   * handles EMFILE itself, closing the connections it cannot take: a connection cap below the
   * open-file limit is what keeps that from happening.
   */
  readonly onAcceptFailed?: (failed: number, err: Error) => void;
}

const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

const HEAD_END = Buffer.from("\r\n\r\n");
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
const EMPTY = Buffer.alloc(0);
/** How long a connection whose request body was refused unread stays open for the answer to be read. */
const UNREAD_LINGER_MS = 2000;
/** A body chunk this large makes the connection yield to the others before it reads more. */
const YIELD_CHUNK_BYTES = 16 * 1024;
/** Pipelined bytes buffered beyond the request being handled before reading pauses. */
const MAX_PIPELINED = 1024 * 1024;

/** The Date header value, recomputed at most once per second. */
let dateValue = "";
let dateSecond = 0;
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** Creates the server; call `server.listen()` on it. */
export function createHttp1Server(handler: Http1Handler, options: Http1ServerOptions): Http1Server {
  const settings: Settings = {
    bodyLimit: options.bodyLimit,
    maxHeadBytes: options.maxHeadBytes ?? 16 * 1024,
    maxHeaderFields: options.maxHeaderFields ?? 100,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 65_000,
  };
  const connections = new Set<Connection>();
  const server = createServer({ noDelay: true }, (socket) => {
    const c = new Connection(socket, handler, settings, connections);
    connections.add(c);
  });
  server.maxConnections = options.maxConnections ?? 16_384;
  // Refused connections are reported at most once per second, with the count since the last report.
  const drops = onceASecond((n) => options.onConnectionsDropped?.(n));
  server.on("drop", () => drops.count(undefined));
  // A failed accept is an 'error' on a listening server: reported, not fatal.
  // Errors before listening (EADDRINUSE) are left to whoever called listen().
  const acceptFailures = onceASecond((n, err: Error) => options.onAcceptFailed?.(n, err));
  server.on("error", (err) => {
    if (server.listening) acceptFailures.count(err);
  });
  // One coarse timer for every connection's deadlines (cheaper than a timer per request).
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const c of connections) c.checkDeadline(now);
  }, 250);
  reaper.unref();
  server.on("close", () => clearInterval(reaper));
  return {
    server,
    close(): Promise<void> {
      return new Promise((resolve) => {
        drops.cancel();
        acceptFailures.cancel();
        server.close(() => resolve());
        for (const c of connections) c.socket.destroy();
      });
    },
  };
}

/** Counts events and reports them at most once per second, with the count since the last report. */
function onceASecond<T>(report: (n: number, last: T) => void): { count(last: T): void; cancel(): void } {
  let n = 0;
  let lastReport = 0;
  let latest: T | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    lastReport = Date.now();
    const count = n;
    n = 0;
    report(count, latest as T);
  };
  return {
    count(last: T): void {
      n++;
      latest = last;
      timer ??= setTimeout(flush, Math.max(0, lastReport + 1000 - Date.now()));
    },
    cancel(): void {
      if (timer) clearTimeout(timer);
    },
  };
}

/** A listening-capable server and its shutdown. */
export interface Http1Server {
  readonly server: Server;
  /** Stops accepting and resets every connection (in-flight requests end as client_gone). */
  close(): Promise<void>;
}

interface Settings {
  readonly bodyLimit: number;
  readonly maxHeadBytes: number;
  readonly maxHeaderFields: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/**
 * Connection phases: Head (waiting for a request head), Body (reading the current body),
 * Answering (the body is in; the handler is answering), Closed (nothing more is read).
 */
const Phase = { Head: 0, Body: 1, Answering: 2, Closed: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

class Connection {
  readonly socket: Socket;
  readonly #handler: Http1Handler;
  readonly #settings: Settings;
  readonly #all: Set<Connection>;
  #phase: Phase = Phase.Head;
  #buf: Buffer = EMPTY;
  /** Where the search for the head's end resumes (bytes already scanned). */
  #scanned = 0;
  /** Date.now() deadline of the current phase (request timeout or keep-alive idle); 0 = none. */
  #deadline = 0;
  #request: IncomingRequest | undefined;
  #reply: Reply | undefined;
  /** Reading is paused until the next turn (#yield). */
  #yielding = false;

  constructor(socket: Socket, handler: Http1Handler, settings: Settings, all: Set<Connection>) {
    this.socket = socket;
    this.#handler = handler;
    this.#settings = settings;
    this.#all = all;
    this.#deadline = Date.now() + settings.keepAliveTimeoutMs;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    // A client's FIN means it gave up (as node:http treats it): the request is aborted.
    socket.on("end", () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.#onClose());
  }

  /** Applies the request timeout (408) or the idle keep-alive timeout (close). */
  checkDeadline(now: number): void {
    if (this.#deadline === 0 || now < this.#deadline) return;
    this.#deadline = 0;
    if (this.#phase === Phase.Body && this.#request) {
      this.#request.fail(
        new BodyError(408, `the request body did not arrive within ${this.#settings.requestTimeoutMs} ms`),
      );
      return;
    }
    if (this.#phase === Phase.Head && this.#buf.length > 0) {
      this.#refuse({
        status: 408,
        message: `the request head did not arrive within ${this.#settings.requestTimeoutMs} ms`,
      });
      return;
    }
    if (this.#phase === Phase.Head) this.socket.end();
    else if (this.#phase === Phase.Closed) this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === Phase.Closed) return;
    if (this.#phase === Phase.Body && this.#request) {
      const used = this.#request.feed(chunk, 0);
      if (used < chunk.length) this.#keep(chunk.subarray(used));
      if (chunk.length >= YIELD_CHUNK_BYTES) this.#yield();
      return;
    }
    this.#keep(chunk);
    if (this.#phase === Phase.Head) this.#readHead();
  }

  /**
   * Stops reading until the next turn of the event loop. libuv reads up to 32 × 64 KiB from one
   * socket in a row: without this, 50 clients uploading large bodies at once would hold every
   * other connection (and /health) for the time it takes to take in and scan ~100 MB.
   */
  #yield(): void {
    if (this.#yielding) return;
    this.#yielding = true;
    this.socket.pause();
    setImmediate(this.#resumeAfterYield);
  }

  readonly #resumeAfterYield = (): void => {
    this.#yielding = false;
    if (this.#phase === Phase.Closed || this.socket.destroyed) return;
    if (this.#phase === Phase.Answering && this.#buf.length > MAX_PIPELINED) return;
    this.socket.resume();
  };

  /** Buffers bytes not yet consumed; pauses reading when a pipelining client runs far ahead. */
  #keep(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#phase === Phase.Answering && this.#buf.length > MAX_PIPELINED) this.socket.pause();
  }

  #readHead(): void {
    const buf = this.#buf;
    if (this.#deadline === 0 || this.#scanned === 0)
      this.#deadline = Date.now() + this.#settings.requestTimeoutMs;
    // Robustness (RFC 9112 §2.2): empty lines before a request line are skipped.
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    const end = buf.indexOf(HEAD_END, Math.max(start, this.#scanned - 3));
    if (end < 0) {
      this.#scanned = buf.length;
      if (buf.length - start > this.#settings.maxHeadBytes)
        this.#refuse({
          status: 431,
          message: `the request head is larger than ${this.#settings.maxHeadBytes} bytes`,
        });
      else if (buf.indexOf("\n\n", start) >= 0)
        this.#refuse({ status: 400, message: "bare LF in the request head" });
      return;
    }
    if (end - start > this.#settings.maxHeadBytes) {
      this.#refuse({
        status: 431,
        message: `the request head is larger than ${this.#settings.maxHeadBytes} bytes`,
      });
      return;
    }
    const parsed = parseRequestHead(buf.toString("latin1", start, end), this.#settings);
    this.#scanned = 0;
    if ("error" in parsed) {
      this.#refuse(parsed.error);
      return;
    }
    const rest = buf.subarray(end + 4);
    this.#buf = EMPTY;
    this.#start(parsed.head, rest);
  }

  #start(head: RequestHead, rest: Buffer): void {
    const request = new IncomingRequest(head, this, this.#settings.bodyLimit);
    const reply = new Reply(this, head);
    this.#request = request;
    this.#reply = reply;
    this.#phase = request.complete ? Phase.Answering : Phase.Body;
    if (!request.complete && rest.length > 0) {
      const used = request.feed(rest, 0);
      if (used < rest.length) this.#keep(rest.subarray(used));
    } else if (rest.length > 0) this.#keep(rest);
    if (this.#phase === Phase.Answering) this.#deadline = 0;
    this.#handler(request, reply);
  }

  /** The current request's body is complete (or refused): stop the request timeout. */
  bodyDone(): void {
    if (this.#phase === Phase.Body) this.#phase = Phase.Answering;
    this.#deadline = 0;
  }

  /** True unless the current request's body was refused or is still unread. */
  bodyConsumed(): boolean {
    return this.#request === undefined || this.#request.complete;
  }

  /** The client must be told `100 Continue` before it sends the body. */
  sendContinue(): void {
    if (!this.socket.destroyed) this.socket.write(CONTINUE);
  }

  /** The reply finished: serve the next request, or close. */
  replyFinished(keepAlive: boolean): void {
    const bodyUnread = this.#request !== undefined && !this.#request.complete;
    this.#request = undefined;
    this.#reply = undefined;
    if (bodyUnread) {
      // Refused unread (413, 400): nothing more is read, so the client's remaining bytes cost
      // nothing here; its writes stall on the closed window until it reads the answer and leaves,
      // or the linger time is up.
      this.#phase = Phase.Closed;
      this.socket.pause();
      this.socket.end();
      this.#deadline = Date.now() + UNREAD_LINGER_MS;
      return;
    }
    if (!keepAlive) {
      this.#phase = Phase.Closed;
      this.socket.end();
      return;
    }
    this.#phase = Phase.Head;
    this.#deadline = Date.now() + this.#settings.keepAliveTimeoutMs;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.#buf.length > 0) this.#readHead();
  }

  /** Answers a malformed head with its status and closes (the stream can't be trusted after it). */
  #refuse(e: { readonly status: number; readonly message: string }): void {
    this.#phase = Phase.Closed;
    this.socket.pause();
    this.#deadline = Date.now() + UNREAD_LINGER_MS;
    const body = JSON.stringify({
      error: { message: e.message, type: "invalid_request_error", param: null, code: "invalid_http_request" },
    });
    this.socket.end(
      `HTTP/1.1 ${e.status} ${STATUS_TEXT[e.status] ?? "Error"}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\ndate: ${httpDate()}\r\n\r\n${body}`,
    );
  }

  #onClose(): void {
    this.#phase = Phase.Closed;
    this.#all.delete(this);
    this.#request?.fail(new BodyError(400, "the connection closed before the request body was complete"));
    this.#reply?.connectionClosed();
  }
}

class IncomingRequest implements Http1Request {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderFields;
  readonly #conn: Connection;
  readonly #head: RequestHead;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #decoder: ChunkedDecoder | undefined;
  #wanted = false;
  #resolve: ((b: Buffer) => void) | undefined;
  #reject: ((e: BodyError) => void) | undefined;
  #error: BodyError | undefined;
  #inspect: BodyInspector | undefined;
  /** All body bytes are in (or there is no body). */
  complete: boolean;

  constructor(head: RequestHead, conn: Connection, limit: number) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.#head = head;
    this.#conn = conn;
    this.#limit = limit;
    if (head.body.kind === "chunked") {
      this.complete = false;
      this.#decoder = new ChunkedDecoder((payload) => this.#append(payload));
    } else {
      this.complete = head.body.length === 0;
      // Answer 413 from the declared length: the body is never read.
      if (head.body.length > limit)
        this.#error = new BodyError(413, `request body is larger than the limit of ${limit} bytes`);
    }
  }

  body(inspect?: BodyInspector): Promise<Buffer> {
    if (inspect && !this.#error) {
      if (!this.#chunks.every(inspect)) {
        if (!this.complete) this.fail(refusedBody());
        else {
          this.#chunks = [];
          return Promise.reject(refusedBody());
        }
      } else this.#inspect = inspect;
    }
    if (this.#error) {
      this.#conn.bodyDone();
      return Promise.reject(this.#error);
    }
    if (this.complete) return Promise.resolve(this.#joined());
    this.#wanted = true;
    if (this.#head.expectContinue && this.#size === 0) this.#conn.sendContinue();
    return new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Consumes body bytes from `buf[start..]`; returns how many belonged to this body. */
  feed(buf: Buffer, start: number): number {
    if (this.complete) return 0;
    if (this.#error) return buf.length - start; // refused: the rest of the body is discarded
    let used: number;
    if (this.#decoder) {
      try {
        used = this.#decoder.push(buf, start);
      } catch (e) {
        this.fail(new BodyError(400, e instanceof ChunkedDecodeError ? e.message : "malformed chunked body"));
        return buf.length - start;
      }
      if (this.#decoder.done) this.#finish();
      return used;
    }
    const length = this.#head.body.kind === "length" ? this.#head.body.length : 0;
    used = Math.min(length - this.#size, buf.length - start);
    this.#append(used === buf.length && start === 0 ? buf : buf.subarray(start, start + used));
    if (this.#size === length) this.#finish();
    return used;
  }

  #append(payload: Buffer): void {
    if (this.#error) return;
    this.#size += payload.length;
    if (this.#size > this.#limit) {
      this.fail(new BodyError(413, `request body is larger than the limit of ${this.#limit} bytes`));
      return;
    }
    if (this.#inspect && !this.#inspect(payload)) {
      this.fail(refusedBody());
      return;
    }
    // Chunked payload slices point into the socket's buffer: copy only when the slice is partial.
    this.#chunks.push(this.#decoder ? Buffer.from(payload) : payload);
  }

  #finish(): void {
    this.complete = true;
    this.#conn.bodyDone();
    if (this.#wanted && this.#resolve) this.#resolve(this.#joined());
  }

  #joined(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    if (chunks.length === 0) return EMPTY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
  }

  /** The body cannot be read (limit, malformed, timeout, connection gone). */
  fail(e: BodyError): void {
    if (this.complete || this.#error) return;
    this.#error = e;
    this.#chunks = [];
    this.#conn.bodyDone();
    this.#reject?.(e);
  }
}

function refusedBody(): BodyError {
  return new BodyError(400, "the request body was refused by its inspector");
}

class Reply implements Http1Reply {
  readonly #conn: Connection;
  readonly #socket: Socket;
  readonly #isHead: boolean;
  #keepAlive: boolean;
  #head: string | undefined;
  #chunked = false;
  headersSent = false;
  finished = false;
  destroyed = false;
  #closeListeners: (() => void)[] | undefined;

  constructor(conn: Connection, head: RequestHead) {
    this.#conn = conn;
    this.#socket = conn.socket;
    this.#isHead = head.method === "HEAD";
    this.#keepAlive = head.keepAlive;
  }

  writeHead(status: number, headers: Readonly<Record<string, string | number | readonly string[]>>): void {
    if (this.#head !== undefined || this.headersSent) return;
    let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\n`;
    let hasLength = false;
    let hasDate = false;
    for (const name in headers) {
      const v = headers[name]!;
      const lower = name.toLowerCase();
      if (lower === "content-length") hasLength = true;
      else if (lower === "date") hasDate = true;
      else if (lower === "connection" || lower === "transfer-encoding" || lower === "keep-alive") continue;
      if (typeof v === "object") for (const one of v) text += `${name}: ${one}\r\n`;
      else text += `${name}: ${v}\r\n`;
    }
    const bodyless = status === 204 || status === 304 || status < 200;
    if (!hasLength && !bodyless) {
      text += "transfer-encoding: chunked\r\n";
      this.#chunked = true;
    }
    if (!hasDate) text += `date: ${httpDate()}\r\n`;
    // Answering before the body was read (413, an early error): the stream can't carry another request.
    if (this.#keepAlive && !this.#conn.bodyConsumed()) this.#keepAlive = false;
    text += this.#keepAlive ? "\r\n" : "connection: close\r\n\r\n";
    this.#head = text;
  }

  flushHeaders(): void {
    if (this.#head === undefined || this.headersSent || this.destroyed) return;
    writeFrame(this.#socket, this.#takeHead(), undefined, "");
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished || this.destroyed) return false;
    if (this.#head === undefined) this.writeHead(200, {});
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const head = this.#takeHead();
    if (this.#isHead || data.length === 0) return writeFrame(this.#socket, head, undefined, "");
    if (this.#chunked)
      return head === ""
        ? writeChunk(this.#socket, data)
        : writeFrame(this.#socket, `${head}${data.length.toString(16)}\r\n`, data, "\r\n");
    return writeFrame(this.#socket, head, data, "");
  }

  end(chunk?: Buffer | string): void {
    if (this.finished || this.destroyed) return;
    if (this.#head === undefined)
      this.writeHead(200, { "content-length": chunk ? Buffer.byteLength(chunk) : 0 });
    const head = this.#takeHead();
    const data = chunk === undefined ? undefined : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.#isHead || data === undefined || data.length === 0)
      writeFrame(this.#socket, this.#chunked && !this.#isHead ? `${head}0\r\n\r\n` : head, undefined, "");
    else if (this.#chunked)
      writeFrame(this.#socket, `${head}${data.length.toString(16)}\r\n`, data, "\r\n0\r\n\r\n");
    else writeFrame(this.#socket, head, data, "");
    this.finished = true;
    this.#conn.replyFinished(this.#keepAlive);
  }

  /** The head text if it has not been sent yet ("" after), marking it sent. */
  #takeHead(): string {
    if (this.headersSent || this.#head === undefined) return "";
    this.headersSent = true;
    return this.#head;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.#socket.destroy();
  }

  truncate(): void {
    if (this.destroyed) return;
    this.#keepAlive = false;
    this.#socket.end();
  }

  onceDrain(fn: () => void): void {
    this.#socket.once("drain", fn);
  }

  onClose(fn: () => void): void {
    if (this.destroyed) {
      if (!this.finished) fn();
      return;
    }
    if (this.#closeListeners) this.#closeListeners.push(fn);
    else this.#closeListeners = [fn];
  }

  /** The socket closed: mark destroyed, tell listeners when the response had not finished. */
  connectionClosed(): void {
    this.destroyed = true;
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (!this.finished && listeners) for (const fn of listeners) fn();
  }
}
