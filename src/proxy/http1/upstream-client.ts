/**
 * Keep-alive HTTP/1.1 connections to one model server, directly on node:net. Hand-written for the
 * same reason as the server (server.ts): undici's general client costs the proxy more CPU per
 * request than the whole target budget. It sends each request as one write (head and body corked),
 * parses the answer (Content-Length, chunked, or until close; 1xx skipped), hands the body over as
 * it arrives, and reuses the connection when the server allows it. The handler mirrors undici's
 * dispatch handler, so the proxy reads the same either way:
 *
 *   onRequestStart(controller) → onResponseStart(status, headers) → onResponseData* → onResponseEnd
 *                                                                   or onResponseError (once)
 *
 * `controller.abort()` works in every phase, including before a connection exists. A reused
 * connection that the server closed while idle (the keep-alive race) is retried once on a fresh
 * connection when nothing of the response arrived.
 */
import { connect, type Socket } from "node:net";
import { ChunkedDecodeError, ChunkedDecoder } from "./chunked-decoder.ts";
import type { HeaderFields } from "./header-lines.ts";
import { parseResponseHead, type ResponseHead } from "./response-head.ts";
import { writeFrame } from "./write-frame.ts";

/** How an upstream exchange failed. `code` tells the proxy whether another endpoint may be tried. */
export class UpstreamError extends Error {
  /**
   * connect: no connection (refused, unreachable, connect timeout); reset: the connection broke
   * (before or during the response); protocol: the server's bytes were not valid HTTP/1.1;
   * aborted: the caller aborted.
   */
  readonly code: "connect" | "reset" | "protocol" | "aborted";
  constructor(code: UpstreamError["code"], message: string) {
    super(message);
    this.name = "UpstreamError";
    this.code = code;
  }
}

export interface UpstreamController {
  /** Ends the exchange now: the connection is closed and onResponseError(reason) is called once. */
  abort(reason: Error): void;
  /** Stops reading the response (the client is slow); resume() continues. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

export interface UpstreamHandler {
  onRequestStart(controller: UpstreamController): void;
  onResponseStart(controller: UpstreamController, status: number, headers: HeaderFields): void;
  onResponseData(controller: UpstreamController, chunk: Buffer): void;
  onResponseEnd(controller: UpstreamController): void;
  onResponseError(controller: UpstreamController, error: Error): void;
}

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Lower-cased names; `host`, `content-length` and `connection` are set here. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface UpstreamEndpointOptions {
  /** Open connections at most; further requests wait for one. Default 1024. */
  readonly maxConnections?: number;
  /** TCP connect timeout, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /**
   * How long an idle connection is kept, ms, at most; a server's `Keep-Alive: timeout` hint
   * lowers it (hint − 1 s). Default 4000 (vLLM's uvicorn closes idle connections after 5 s).
   */
  readonly idleTimeoutMs?: number;
}

const HEAD_END = Buffer.from("\r\n\r\n");
const EMPTY = Buffer.alloc(0);
/** Where every upstream socket reads into; what a read brought is copied out before the next. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The connections to one endpoint (`host:port`). */
export class UpstreamEndpoint {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #max: number;
  readonly #connectTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  /** Idle connections, most recently used last. */
  readonly #idle: Connection[] = [];
  readonly #waiting: Exchange[] = [];
  #open = 0;
  #closed = false;
  readonly #sweeper: NodeJS.Timeout;

  /** `host` without brackets (IPv6 allowed). */
  constructor(host: string, port: number, options: UpstreamEndpointOptions = {}) {
    this.#host = host;
    this.#port = port;
    this.#hostHeader = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    this.#max = options.maxConnections ?? 1024;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 4000;
    this.#sweeper = setInterval(() => this.#sweep(), 500);
    this.#sweeper.unref();
  }

  /** Sends one request; the handler is told everything (onRequestStart synchronously). */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const ex = new Exchange(this.#serialize(request), request.body, handler, this);
    handler.onRequestStart(ex);
    if (ex.done) return;
    if (this.#closed) {
      ex.fail(new UpstreamError("connect", "the endpoint was removed"));
      return;
    }
    this.#assign(ex);
  }

  #serialize(request: UpstreamRequest): string {
    let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${this.#hostHeader}\r\n`;
    for (const name in request.headers) {
      if (name === "host" || name === "content-length" || name === "connection") continue;
      head += `${name}: ${request.headers[name]}\r\n`;
    }
    return `${head}content-length: ${request.body.length}\r\n\r\n`;
  }

  /** Gives the exchange a connection: an idle one, a new one, or a place in the queue. */
  #assign(ex: Exchange): void {
    const idle = this.#idle.pop();
    if (idle) {
      idle.send(ex, true);
      return;
    }
    if (this.#open < this.#max) {
      this.#openConnection().send(ex, false);
      return;
    }
    this.#waiting.push(ex);
  }

  #openConnection(): Connection {
    this.#open++;
    const c: Connection = new Connection(
      connect({
        host: this.#host,
        port: this.#port,
        noDelay: true,
        // Reads land in one shared buffer and are copied out at once (Connection.read): no
        // readable-stream machinery and no 64 KiB allocation per read (~1.3 µs a read, measured).
        onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => c.read(n, buf) },
      }),
      this,
      this.#connectTimeoutMs,
    );
    return c;
  }

  /** A connection finished an exchange and may be reused until `idleMs` from now. */
  released(c: Connection, idleMs: number | undefined): void {
    const next = this.#waiting.shift();
    if (next) {
      c.send(next, true);
      return;
    }
    if (this.#closed) {
      c.destroy();
      return;
    }
    c.idleUntil = Date.now() + Math.min(this.#idleTimeoutMs, idleMs ?? Number.POSITIVE_INFINITY);
    this.#idle.push(c);
  }

  /** A connection closed (any reason). */
  gone(c: Connection): void {
    this.#open--;
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    const next = this.#waiting.shift();
    if (next && !this.#closed) this.#assign(next);
  }

  /** Retries an exchange whose reused connection had been closed by the server while idle. */
  retryFresh(ex: Exchange): void {
    if (this.#closed) ex.fail(new UpstreamError("reset", "the endpoint was removed"));
    else if (this.#open < this.#max) this.#openConnection().send(ex, false);
    else this.#waiting.unshift(ex);
  }

  /** Removes a queued exchange (aborted before it got a connection). */
  unqueue(ex: Exchange): void {
    const i = this.#waiting.indexOf(ex);
    if (i >= 0) this.#waiting.splice(i, 1);
  }

  #sweep(): void {
    const now = Date.now();
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const c = this.#idle[i]!;
      if (c.idleUntil <= now) {
        this.#idle.splice(i, 1);
        c.destroy();
      }
    }
  }

  /** Fails queued requests, closes idle connections; busy ones end with their exchange. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const ex of this.#waiting.splice(0))
      ex.fail(new UpstreamError("connect", "the endpoint was removed"));
    for (const c of this.#idle.splice(0)) c.destroy();
  }

  /** Ends every exchange and connection now. */
  destroy(): void {
    this.close();
    for (const c of Connection.of(this)) c.destroy();
  }
}

/** One request/response on an endpoint; the handler's controller. */
class Exchange implements UpstreamController {
  readonly head: string;
  readonly body: Buffer;
  readonly handler: UpstreamHandler;
  readonly endpoint: UpstreamEndpoint;
  connection: Connection | undefined = undefined;
  /** Response bytes received (the keep-alive race is only retried while 0). */
  received = 0;
  retried = false;
  paused = false;
  done = false;

  constructor(head: string, body: Buffer, handler: UpstreamHandler, endpoint: UpstreamEndpoint) {
    this.head = head;
    this.body = body;
    this.handler = handler;
    this.endpoint = endpoint;
  }

  abort(reason: Error): void {
    if (this.done) return;
    if (this.connection) this.connection.destroy();
    else this.endpoint.unqueue(this);
    this.fail(reason);
  }

  pause(): void {
    this.paused = true;
    this.connection?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.connection?.socket.resume();
  }

  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onResponseError(this, error);
  }
}

const live = new WeakMap<UpstreamEndpoint, Set<Connection>>();

class Connection {
  readonly socket: Socket;
  readonly #endpoint: UpstreamEndpoint;
  #exchange: Exchange | undefined;
  #reused = false;
  #connected = false;
  #buf: Buffer = EMPTY;
  #head: ResponseHead | undefined;
  #remaining = 0;
  #decoder: ChunkedDecoder | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  idleUntil = 0;

  /** Every open connection of an endpoint (for destroy). */
  static of(endpoint: UpstreamEndpoint): Connection[] {
    return [...(live.get(endpoint) ?? [])];
  }

  constructor(socket: Socket, endpoint: UpstreamEndpoint, connectTimeoutMs: number) {
    this.socket = socket;
    this.#endpoint = endpoint;
    let set = live.get(endpoint);
    if (!set) {
      set = new Set();
      live.set(endpoint, set);
    }
    set.add(this);
    this.#connectTimer = setTimeout(
      () =>
        socket.destroy(
          Object.assign(new Error(`connect timeout after ${connectTimeoutMs} ms`), { code: "ETIMEDOUT" }),
        ),
      connectTimeoutMs,
    );
    socket.once("connect", () => {
      this.#connected = true;
      clearTimeout(this.#connectTimer);
    });
    // A handler that throws must not take the process down from inside a socket event: the
    // exchange fails instead, and the connection is dropped.
    socket.on("end", () => this.#guard(() => this.#onEnd()));
    socket.on("error", (e: Error) => this.#guard(() => this.#onClose(e)));
    socket.on("close", () => this.#guard(() => this.#onClose(undefined)));
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const ex = this.#exchange;
      this.#exchange = undefined;
      this.socket.destroy();
      try {
        ex?.fail(
          new UpstreamError(
            "protocol",
            `internal error while relaying the response: ${(e as Error).message}`,
          ),
        );
      } catch (again) {
        process.emitWarning(`upstream handler failed twice: ${(again as Error).message}`);
      }
    }
  }

  /**
   * The socket read `n` bytes into `buf` (the shared READ_BUFFER): handled on a copy of them.
   * Returns true: backpressure pauses the socket itself (socket.pause() stops reading).
   */
  read(n: number, buf: Uint8Array): boolean {
    const chunk = Buffer.allocUnsafe(n);
    chunk.set(n === buf.length ? buf : buf.subarray(0, n));
    this.#guard(() => this.#onData(chunk));
    return true;
  }

  /** Writes the exchange's request (head and body in one write). */
  send(ex: Exchange, reused: boolean): void {
    this.#exchange = ex;
    this.#reused = reused;
    this.#head = undefined;
    this.#decoder = undefined;
    ex.connection = this;
    const s = this.socket;
    if (ex.paused) s.pause();
    else if (s.isPaused()) s.resume();
    writeFrame(s, ex.head, ex.body, "");
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const ex = this.#exchange;
    if (!ex) {
      // Bytes nobody asked for: the connection cannot be trusted.
      this.socket.destroy();
      return;
    }
    ex.received += chunk.length;
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#buf = EMPTY;
    while (buf.length > 0 && this.#exchange === ex && !ex.done) {
      if (this.#head === undefined) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) {
          if (buf.length > 64 * 1024) this.#protocolError(ex, "response head larger than 64 KiB");
          else this.#buf = buf;
          return;
        }
        const parsed = parseResponseHead(buf.toString("latin1", 0, end));
        buf = buf.subarray(end + 4);
        if ("error" in parsed) {
          this.#protocolError(ex, parsed.error);
          return;
        }
        const head = parsed.head;
        if (head.status >= 100 && head.status < 200) continue; // 100 Continue, 103 Early Hints
        this.#head = head;
        if (head.body.kind === "chunked")
          this.#decoder = new ChunkedDecoder((p) => {
            if (!ex.done) ex.handler.onResponseData(ex, p);
          });
        else if (head.body.kind === "length") this.#remaining = head.body.length;
        ex.handler.onResponseStart(ex, head.status, head.headers);
        if (ex.done) return;
        if (head.body.kind === "length" && head.body.length === 0) {
          this.#finish(ex, buf);
          return;
        }
        continue;
      }
      const body = this.#head.body;
      if (body.kind === "chunked") {
        let used: number;
        try {
          used = this.#decoder!.push(buf);
        } catch (e) {
          this.#protocolError(ex, e instanceof ChunkedDecodeError ? e.message : String(e));
          return;
        }
        if (!ex.done && this.#decoder!.done) this.#finish(ex, buf.subarray(used));
        return;
      }
      if (body.kind === "close") {
        ex.handler.onResponseData(ex, buf);
        return;
      }
      const n = Math.min(this.#remaining, buf.length);
      ex.handler.onResponseData(ex, n === buf.length ? buf : buf.subarray(0, n));
      this.#remaining -= n;
      if (!ex.done && this.#remaining === 0) this.#finish(ex, buf.subarray(n));
      return;
    }
  }

  /** The response is complete: tell the handler, then reuse or close the connection. */
  #finish(ex: Exchange, rest: Buffer): void {
    const head = this.#head!;
    this.#exchange = undefined;
    ex.connection = undefined;
    ex.done = true;
    ex.handler.onResponseEnd(ex);
    if (!head.keepAlive || rest.length > 0) {
      this.socket.destroy();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    const hint = head.keepAliveTimeoutMs;
    this.#endpoint.released(this, hint === undefined ? undefined : Math.max(0, hint - 1000));
  }

  #protocolError(ex: Exchange, reason: string): void {
    this.#exchange = undefined;
    this.socket.destroy();
    ex.fail(new UpstreamError("protocol", `invalid response from the model server: ${reason}`));
  }

  #onEnd(): void {
    const ex = this.#exchange;
    if (ex && this.#head?.body.kind === "close") {
      this.#exchange = undefined;
      ex.done = true;
      ex.handler.onResponseEnd(ex);
    }
    this.socket.destroy();
  }

  #onClose(error: Error | undefined): void {
    clearTimeout(this.#connectTimer);
    const set = live.get(this.#endpoint);
    if (set?.delete(this)) this.#endpoint.gone(this);
    const ex = this.#exchange;
    this.#exchange = undefined;
    if (!ex || ex.done) return;
    ex.connection = undefined;
    if (this.#reused && ex.received === 0 && !ex.retried) {
      // The server closed this idle connection as we reused it: not the endpoint's failure.
      ex.retried = true;
      this.#endpoint.retryFresh(ex);
      return;
    }
    const code = (error as { code?: string } | undefined)?.code;
    if (!this.#connected)
      ex.fail(new UpstreamError("connect", `could not connect (${error?.message ?? "closed"})`));
    else
      ex.fail(
        new UpstreamError(
          "reset",
          ex.received === 0
            ? `the connection closed before a response (${code ?? "closed"})`
            : `the connection broke during the response (${code ?? "closed"})`,
        ),
      );
  }
}
