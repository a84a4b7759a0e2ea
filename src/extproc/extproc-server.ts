/**
 * `envoy.service.ext_proc.v3.ExternalProcessor/Process` on grpc-js: one ExtProcStream per gRPC
 * stream. A cancelled stream (Envoy reset it: the client went away, or Envoy gave up) resets the
 * machine, which leaves the queue; Envoy half-closing ends it.
 */
import { Server, type ServerDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { BeginExchange } from "./exchange-port.ts";
import type { ExtProcOptions } from "./extproc-options.ts";
import { bindAsync, shutdown } from "./health-server.ts";
import { EXT_PROC_DEFINITION, type ProcessingRequest, type ProcessingResponse } from "./protocol.ts";
import { serverCredentials, type TlsSettings } from "./server-credentials.ts";
import { ExtProcStream } from "./stream-machine.ts";

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
  close(): Promise<void>;
}

/** Starts the ext_proc gRPC server; resolves once it listens. */
export async function startExtProcServer(config: ExtProcServerConfig): Promise<ExtProcServer> {
  const server = new Server({
    // BUFFERED mode sends the whole body in one message.
    "grpc.max_receive_message_length": config.options.bodyLimit + 64 * 1024,
    "grpc.max_send_message_length": -1,
    // Per-call bookkeeping nobody reads (igw exposes no channelz service).
    "grpc.enable_channelz": 0,
  });
  let open = 0;
  server.addService(EXT_PROC_DEFINITION, {
    Process(call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>) {
      open++;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        open--;
        call.end();
      };
      const machine = new ExtProcStream({
        begin: config.begin,
        send: (r) => {
          // Backpressure: stop reading Envoy's messages while our answers are not flushed.
          if (!done && !call.write(r) && !call.isPaused()) {
            call.pause();
            call.once("drain", () => call.resume());
          }
        },
        close: finish,
        options: config.options,
        ...(config.logger ? { logger: config.logger } : {}),
      });
      call.on("data", (msg: ProcessingRequest) => machine.handle(msg));
      call.on("end", () => machine.peerClosed());
      call.on("cancelled", () => {
        machine.reset();
        if (!done) {
          done = true;
          open--;
        }
      });
      call.on("error", (err) => {
        config.logger?.debug({ err }, "ext_proc stream error");
        machine.reset();
        finish();
      });
    },
  });
  const port = await bindAsync(server, config.host, config.port, await serverCredentials(config.tls ?? {}));
  return {
    port,
    get openStreams() {
      return open;
    },
    close: () => shutdown(server),
  };
}
