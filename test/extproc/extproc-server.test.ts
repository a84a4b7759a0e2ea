// The ext_proc gRPC server and its health server, driven by a grpc-js client on loopback: stream
// lifecycle (half-close, cancellation), TLS from --cert-path files, and grpc.health.v1.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type ClientDuplexStream, credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import type { AbortLike } from "../../src/cancellation.ts";
import type { BeginExchange, ExchangePort } from "../../src/extproc/exchange-port.ts";
import { extProcOptions } from "../../src/extproc/extproc-options.ts";
import { startExtProcServer } from "../../src/extproc/extproc-server.ts";
import { startHealthServer } from "../../src/extproc/health-server.ts";
import { EXT_PROC_SERVICE, type ProcessingResponse } from "../../src/extproc/protocol.ts";
import { selfSignedCertificate } from "../../src/extproc/server-credentials.ts";
import { asGatewayError, errorResponse } from "../../src/requestcontrol/error-response.ts";
import { testDecision } from "../helpers/extproc-decision.ts";
import { loadExtProcService } from "../helpers/extproc-proto.ts";
import { healthClient } from "../helpers/grpc-health.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const Client = makeGenericClientConstructor(loadExtProcService(), "ExternalProcessor");

interface Calls {
  ends: number;
  gone: boolean;
  signal?: AbortLike;
}

/** Decides at once for "GET /now"; holds anything else until its signal aborts. */
function exchanges(calls: Calls[]): BeginExchange {
  return (inbound) => {
    const c: Calls = { ends: 0, gone: false };
    calls.push(c);
    const port: ExchangePort = {
      decide(body, signal) {
        c.signal = signal;
        const d = testDecision(body, { url: inbound.url, endpoints: ["10.0.0.1:8000"] });
        if (inbound.url === "/now") return Promise.resolve(d);
        return new Promise((_, reject) =>
          signal!.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      },
      attempt() {},
      responseStarted: (status) => ({ kind: "relay", head: { status, setHeaders: {}, removeHeaders: [] } }),
      responseChunk: (b) => b,
      responseEnd: () => Buffer.alloc(0),
      fail: (e) => errorResponse(asGatewayError(e)),
      clientGone() {
        c.gone = true;
      },
      end() {
        c.ends++;
      },
    };
    return port;
  };
}

const headersOnly = (path: string) => ({
  requestHeaders: {
    headers: {
      headers: [
        { key: ":method", rawValue: Buffer.from("GET") },
        { key: ":path", rawValue: Buffer.from(path) },
      ],
    },
    endOfStream: true,
  },
});

function open(client: InstanceType<typeof Client>): ClientDuplexStream<object, ProcessingResponse> {
  return (client as unknown as { Process(): ClientDuplexStream<object, ProcessingResponse> }).Process();
}

function firstResponse(call: ClientDuplexStream<object, ProcessingResponse>): Promise<ProcessingResponse> {
  return new Promise((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("ext_proc gRPC server", () => {
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  /** A plaintext server over `calls`' exchanges and a client of it, both closed after the suite. */
  async function serve(calls: Calls[]) {
    const server = await startExtProcServer({
      host: "127.0.0.1",
      port: 0,
      begin: exchanges(calls),
      options: extProcOptions(),
    });
    closers.push(() => server.close());
    const client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    closers.push(() => client.close());
    return { server, client };
  }

  it("answers on the stream and ends it once Envoy half-closes", async () => {
    const calls: Calls[] = [];
    const { server, client } = await serve(calls);
    const call = open(client);
    call.write(headersOnly("/now"));
    const r = await firstResponse(call);
    const set = r.requestHeaders?.response?.headerMutation?.setHeaders ?? [];
    assert.deepEqual(
      set.map((h) => [h.header.key, h.header.rawValue.toString()]),
      [["x-gateway-destination-endpoint", "10.0.0.1:8000"]],
    );
    assert.equal(server.openStreams, 1);
    const ended = new Promise((resolve) => call.on("status", resolve));
    call.end();
    call.resume();
    assert.equal(((await ended) as { code: number }).code, 0);
    await until(() => server.openStreams === 0, "the stream to close");
    assert.deepEqual(
      calls.map((c) => c.ends),
      [1],
    );
  });

  it("answers another method on the port with UNIMPLEMENTED", async () => {
    const { client } = await serve([]);
    const call = client.makeBidiStreamRequest(
      "/envoy.service.ext_proc.v3.ExternalProcessor/Other",
      (m: Buffer) => m,
      (b: Buffer) => b,
    );
    const status = await new Promise<{ code: number; details: string }>((resolve) => {
      call.on("error", () => {});
      call.on("status", resolve);
    });
    assert.equal(status.code, 12);
    assert.match(status.details, /serves only \/envoy\.service\.ext_proc\.v3\.ExternalProcessor\/Process/);
  });

  it("a cancelled stream aborts a held decision and ends the exchange once", async () => {
    const calls: Calls[] = [];
    const { server, client } = await serve(calls);
    const call = open(client);
    call.on("error", () => {});
    call.write(headersOnly("/hold"));
    await until(() => calls[0]?.signal !== undefined, "the decision to start");
    call.cancel();
    await until(() => calls[0]!.ends === 1, "the exchange to end");
    assert.equal(calls[0]!.signal!.aborted, true);
    await until(() => server.openStreams === 0, "the stream count to drop");
  });

  it("serves TLS from --cert-path (tls.crt, tls.key); a plaintext client is refused", async () => {
    const pem = await selfSignedCertificate();
    const dir = tempFiles({ "tls.crt": pem.cert, "tls.key": pem.private });
    closers.push(() => dir.cleanup());
    const calls: Calls[] = [];
    const server = await startExtProcServer({
      host: "127.0.0.1",
      port: 0,
      begin: exchanges(calls),
      options: extProcOptions(),
      tls: { certPath: dir.dir },
    });
    closers.push(() => server.close());
    const tlsClient = new Client(`localhost:${server.port}`, credentials.createSsl(Buffer.from(pem.cert)));
    closers.push(() => tlsClient.close());
    const call = open(tlsClient);
    call.write(headersOnly("/now"));
    assert.ok((await firstResponse(call)).requestHeaders);
    call.cancel();
    call.on("error", () => {});

    const plain = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), {
      "grpc.initial_reconnect_backoff_ms": 50,
    });
    closers.push(() => plain.close());
    const bad = open(plain);
    bad.write(headersOnly("/now"));
    await assert.rejects(firstResponse(bad), /UNAVAILABLE|14/);
  });

  it("names the missing file when --cert-path lacks tls.key", async () => {
    const dir = tempFiles({ "tls.crt": "x" });
    closers.push(() => dir.cleanup());
    await assert.rejects(
      startExtProcServer({
        host: "127.0.0.1",
        port: 0,
        begin: exchanges([]),
        options: extProcOptions(),
        tls: { certPath: dir.dir },
      }),
      /cannot read tls\.key/,
    );
  });
});

describe("grpc.health.v1 health server", () => {
  it("reports SERVING for '' and the ext_proc service, then NOT_SERVING", async () => {
    const health = await startHealthServer("127.0.0.1", 0);
    const client = healthClient(health.port);
    const check = (service: string) => client.check(service);
    try {
      assert.equal(await check(""), "SERVING");
      assert.equal(await check(EXT_PROC_SERVICE), "SERVING");
      health.setServing(false);
      assert.equal(await check(""), "NOT_SERVING");
      assert.equal(await check(EXT_PROC_SERVICE), "NOT_SERVING");
      await assert.rejects(check("unknown.Service"), /NOT_FOUND|5/);
    } finally {
      client.close();
      await health.close();
    }
  });
});
