/**
 * `envoy.service.ext_proc.v3.ExternalProcessor/Process` served on node:http2 directly: gRPC's
 * framing (grpc-frames.ts) and our codec (wire-*.ts), one ExtProcStream per HTTP/2 stream. It is
 * the one method on the port, so grpc-js' generic machinery (interceptors, metadata, per-message
 * events) is not paid per request; the health service stays on grpc-js, on its own port.
 *
 * Envoy half-closing ends the stream: the machine finishes, we answer trailers `grpc-status: 0`.
 * A stream that closes before we ended it (Envoy reset it: the client went away, or Envoy gave up)
 * resets the machine, which leaves the queue.
 */
import {
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { Logger } from "pino";
import type { BeginExchange } from "./exchange-port.ts";
import type { ExtProcOptions } from "./extproc-options.ts";
import { FrameError, grpcMessage, MessageReader, UNIMPLEMENTED, writePrefix } from "./grpc-frames.ts";
import { PROCESS_PATH, type ProcessingResponse } from "./protocol.ts";
import { serverTls, type TlsSettings } from "./server-credentials.ts";
import { ExtProcStream } from "./stream-machine.ts";
import { decodeProcessingRequest } from "./wire-reader.ts";
import { encodeProcessingResponse } from "./wire-writer.ts";

export interface ExtProcServerConfig {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly begin: BeginExchange;
  readonly options: ExtProcOptions;
  readonly tls?: TlsSettings;
  readonly logger?: Logger;
}

export interface ExtProcServer {
  readonly port: number;
  /** Streams open now. */
  readonly openStreams: number;
  /** Closes the port, lets open streams finish (5 s at most), then closes the connections. */
  close(): Promise<void>;
}

const INTERNAL = 13;

/** Starts the ext_proc server; resolves once it listens (rejects with listen()'s error). */
export async function startExtProcServer(config: ExtProcServerConfig): Promise<ExtProcServer> {
  const tls = await serverTls(config.tls ?? {});
  // Node's default session memory cap (10 MB) refuses streams under load (ENHANCE_YOUR_CALM);
  // a request's memory is bounded by bodyLimit instead, as with grpc-js (which lifts it too).
  const common = { maxSessionMemory: Number.MAX_SAFE_INTEGER };
  const server: Http2Server = tls ? createSecureServer({ ...common, ...tls }) : createServer(common);
  const sessions = new Set<Http2Session>();
  let open = 0;
  // BUFFERED mode sends the whole body in one message.
  const messageLimit = config.options.bodyLimit + 64 * 1024;
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("sessionError", (err) => config.logger?.debug({ err }, "ext_proc connection error"));
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", (err) => config.logger?.debug({ err }, "ext_proc stream error"));
    // Reset by Envoy before we saw it: respond() would throw.
    if (stream.destroyed || stream.closed) return;
    if (headers[":path"] !== PROCESS_PATH) {
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": String(UNIMPLEMENTED),
          "grpc-message": grpcMessage(`this port serves only ${PROCESS_PATH}`),
        },
        { endStream: true },
      );
      return;
    }
    open++;
    stream.once("close", () => open--);
    serveProcess(stream, new MessageReader(messageLimit), config);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    get openStreams() {
      return open;
    },
    close: () => closeServer(server, sessions),
  };
}

/** One Process call: frames in to the machine, its answers out as frames, trailers at the end. */
function serveProcess(stream: ServerHttp2Stream, reader: MessageReader, config: ExtProcServerConfig): void {
  let status = "0";
  let message: string | undefined;
  let ended = false;
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () =>
    stream.sendTrailers(
      message === undefined
        ? { "grpc-status": status }
        : { "grpc-status": status, "grpc-message": grpcMessage(message) },
    ),
  );
  const finish = (): void => {
    if (ended || stream.destroyed) return;
    ended = true;
    stream.end();
  };
  const machine = new ExtProcStream({
    begin: config.begin,
    send: (r: ProcessingResponse) => {
      if (ended || stream.destroyed) return;
      // Backpressure: stop reading Envoy's messages while our answers are not flushed.
      if (!stream.write(writePrefix(encodeProcessingResponse(r, 5))) && !stream.isPaused()) {
        stream.pause();
        stream.once("drain", () => stream.resume());
      }
    },
    close: finish,
    options: config.options,
    ...(config.logger ? { logger: config.logger } : {}),
  });
  /** Ends the call with a gRPC error: the machine is reset (its exchange ends), the peer told why. */
  const abort = (code: number, why: string): void => {
    config.logger?.warn({ code, reason: why }, "ext_proc stream failed");
    status = String(code);
    message = why;
    machine.reset();
    finish();
  };
  stream.on("data", (chunk: Buffer) => {
    if (ended) return;
    let messages: Buffer[];
    try {
      messages = reader.push(chunk);
    } catch (e) {
      abort(e instanceof FrameError ? e.code : INTERNAL, (e as Error).message);
      return;
    }
    for (const m of messages) {
      let request: ReturnType<typeof decodeProcessingRequest>;
      try {
        request = decodeProcessingRequest(m);
      } catch (e) {
        abort(INTERNAL, `malformed ProcessingRequest: ${(e as Error).message}`);
        return;
      }
      machine.handle(request);
    }
  });
  stream.on("end", () => {
    if (reader.pendingBytes > 0) abort(INTERNAL, "the stream ended inside a gRPC message");
    else machine.peerClosed();
  });
  // Closed before we ended it: reset by Envoy, or the connection went away.
  stream.on("close", () => {
    if (!ended) machine.reset();
    ended = true;
  });
}

function closeServer(server: Http2Server, sessions: Set<Http2Session>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const s of sessions) s.destroy();
    }, 5000);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    for (const s of sessions) s.close();
  });
}
