// The ext_proc stream state machine without gRPC: Envoy's messages in, our answers out, against a
// recording exchange.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AbortLike } from "../../src/cancellation.ts";
import { GatewayError } from "../../src/errors.ts";
import type {
  Decision,
  ErrorResponse,
  ExchangePort,
  InboundRequest,
  ResponseAction,
} from "../../src/extproc/exchange-port.ts";
import { extProcOptions } from "../../src/extproc/extproc-options.ts";
import {
  BodySendMode,
  type HeaderMutation,
  type ProcessingRequest,
  type ProcessingResponse,
} from "../../src/extproc/protocol.ts";
import { ExtProcStream } from "../../src/extproc/stream-machine.ts";
import { asGatewayError, errorResponse } from "../../src/requestcontrol/error-response.ts";
import { testDecision } from "../helpers/extproc-decision.ts";

const CHAT = JSON.stringify({ model: "client-model", messages: [{ role: "user", content: "hi" }] });

/** An exchange that records every call; `decision` settles decide (a function can hold it). */
class RecordingExchange implements ExchangePort {
  readonly attempts: string[] = [];
  readonly chunks: Buffer[] = [];
  readonly failed: unknown[] = [];
  readonly inbound: InboundRequest;
  readonly subset: readonly string[] | undefined;
  readonly #decision: (signal: AbortLike) => Promise<Decision>;
  body: Buffer | undefined;
  signal: AbortLike | undefined;
  started: { status: number; headers: Record<string, unknown> } | undefined;
  responseEnds = 0;
  gone = false;
  ends = 0;
  constructor(
    inbound: InboundRequest,
    subset: readonly string[] | undefined,
    decision: (signal: AbortLike) => Promise<Decision>,
  ) {
    this.inbound = inbound;
    this.subset = subset;
    this.#decision = decision;
  }
  decide(body: Buffer, signal?: AbortLike): Promise<Decision> {
    this.body = body;
    this.signal = signal;
    return this.#decision(signal!);
  }
  attempt(endpoint: string): void {
    this.attempts.push(endpoint);
  }
  responseStarted(status: number, headers: Readonly<Record<string, unknown>>): ResponseAction {
    this.started = { status, headers: { ...headers } };
    return {
      kind: "relay",
      head: {
        status,
        setHeaders: { "x-gateway-destination-endpoint-served": this.attempts.at(-1) ?? "" },
        removeHeaders: ["content-length"],
      },
    };
  }
  responseChunk(chunk: Buffer): Buffer {
    this.chunks.push(chunk);
    return Buffer.from(chunk.toString().replaceAll("target-model", "client-model"));
  }
  responseEnd(): Buffer {
    this.responseEnds++;
    return Buffer.alloc(0);
  }
  fail(e?: unknown): ErrorResponse {
    this.failed.push(e);
    return errorResponse(asGatewayError(e), "req-1");
  }
  clientGone(): void {
    this.gone = true;
  }
  end(): void {
    this.ends++;
  }
}

function decision(overrides: Partial<Decision> = {}): Decision {
  return testDecision(Buffer.from(CHAT), overrides);
}

interface Harness {
  machine: ExtProcStream;
  sent: ProcessingResponse[];
  closed: () => number;
  exchange: () => RecordingExchange;
}

function harness(
  decide: (signal: AbortLike) => Promise<Decision> = async () => decision(),
  overrides: Parameters<typeof extProcOptions>[0] = {},
): Harness {
  const sent: ProcessingResponse[] = [];
  let closes = 0;
  let exchange: RecordingExchange | undefined;
  const machine = new ExtProcStream({
    begin: (inbound, subset) => {
      exchange = new RecordingExchange(inbound, subset, decide);
      return exchange;
    },
    send: (r) => sent.push(r),
    close: () => closes++,
    options: extProcOptions(overrides),
  });
  return {
    machine,
    sent,
    closed: () => closes,
    exchange: () => {
      assert.ok(exchange, "no exchange was begun");
      return exchange;
    },
  };
}

/** A harness whose chat request was decided (FULL_DUPLEX_STREAMED), answered and routed. */
async function routed(decide?: (signal: AbortLike) => Promise<Decision>): Promise<Harness> {
  const h = harness(decide);
  h.machine.handle(requestHeaders());
  h.machine.handle(body(CHAT, true));
  await tick();
  return h;
}

const hv = (key: string, value: string) => ({ key, rawValue: Buffer.from(value) });

function requestHeaders(
  extra: Array<[string, string]> = [],
  endOfStream = false,
  mode: { req?: number; res?: number; early?: boolean } = {},
): ProcessingRequest {
  return {
    request: "requestHeaders",
    requestHeaders: {
      headers: {
        headers: [
          hv(":method", "POST"),
          hv(":path", "/v1/chat/completions"),
          hv(":authority", "gateway.example"),
          hv("content-type", "application/json"),
          hv("x-request-id", "req-1"),
          ...extra.map(([k, v]) => hv(k, v)),
        ],
      },
      endOfStream,
    },
    protocolConfig: {
      requestBodyMode: mode.req ?? BodySendMode.FULL_DUPLEX_STREAMED,
      responseBodyMode: mode.res ?? BodySendMode.FULL_DUPLEX_STREAMED,
      ...(mode.early ? { sendBodyWithoutWaitingForHeaderResponse: true } : {}),
    },
  };
}

const body = (text: string | Buffer, endOfStream: boolean): ProcessingRequest => ({
  request: "requestBody",
  requestBody: { body: Buffer.from(text), endOfStream },
});

const tick = () => new Promise((r) => setImmediate(r));

function setOf(m: HeaderMutation | undefined): Record<string, string> {
  return Object.fromEntries((m?.setHeaders ?? []).map((o) => [o.header.key, o.header.rawValue.toString()]));
}

function streamedBody(sent: ProcessingResponse[], phase: "requestBody" | "responseBody") {
  const parts = sent
    .map((r) => r[phase]?.response?.bodyMutation)
    .filter((m) => m !== undefined)
    .map((m) => {
      assert.ok("streamedResponse" in m, "expected a streamed body response");
      return m.streamedResponse;
    });
  return {
    text: Buffer.concat(parts.map((p) => p.body)).toString(),
    sizes: parts.map((p) => p.body.length),
    eos: parts.map((p) => p.endOfStream),
  };
}

describe("ExtProcStream, FULL_DUPLEX_STREAMED", () => {
  it("holds the headers until the body ends, then routes: destination header, content-length, metadata, body", async () => {
    const h = harness();
    h.machine.handle(
      requestHeaders([
        ["x-gateway-destination-endpoint", "6.6.6.6:1"],
        ["x-gateway-destination-endpoint-fallback", "6.6.6.6:2"],
      ]),
    );
    h.machine.handle(body(CHAT.slice(0, 10), false));
    assert.equal(h.sent.length, 0, "nothing is answered before the body is complete");
    h.machine.handle(body(CHAT.slice(10), true));
    await tick();
    const ex = h.exchange();
    assert.deepEqual(
      { method: ex.inbound.method, url: ex.inbound.url, body: ex.body!.toString() },
      { method: "POST", url: "/v1/chat/completions", body: CHAT },
    );
    assert.equal(ex.inbound.headers["host"], "gateway.example");
    assert.equal(ex.inbound.headers[":path"], undefined, "pseudo-headers are not headers");

    const headers = h.sent[0]!;
    const common = headers.requestHeaders?.response;
    assert.ok(common, "the first answer is the headers answer");
    assert.deepEqual(setOf(common.headerMutation), {
      "x-gateway-destination-endpoint": "10.0.0.1:8000",
      "content-length": String(Buffer.byteLength(CHAT)),
    });
    // The client's destination header is overwritten; its other control headers are removed.
    assert.deepEqual(common.headerMutation?.removeHeaders, ["x-gateway-destination-endpoint-fallback"]);
    assert.equal(common.clearRouteCache, true);
    assert.deepEqual(headers.dynamicMetadata, {
      fields: {
        "envoy.lb": {
          structValue: {
            fields: { "x-gateway-destination-endpoint": { stringValue: "10.0.0.1:8000,10.0.0.2:8000" } },
          },
        },
      },
    });
    assert.deepEqual(streamedBody(h.sent, "requestBody"), {
      text: CHAT,
      sizes: [Buffer.byteLength(CHAT)],
      eos: [true],
    });
    assert.deepEqual(ex.attempts, ["10.0.0.1:8000"]);
    assert.equal(h.machine.phase, "routed");
  });

  it("re-emits a rewritten body in chunks of at most 62,000 bytes, end of stream on the last", async () => {
    const rewritten = Buffer.from(JSON.stringify({ model: "target-model", prompt: "x".repeat(150_000) }));
    const h = harness(async () =>
      decision({ body: rewritten, bodyRewritten: true, targetModel: "target-model" }),
    );
    h.machine.handle(requestHeaders());
    h.machine.handle(body(JSON.stringify({ model: "client-model", prompt: "x".repeat(150_000) }), true));
    await tick();
    assert.equal(
      setOf(h.sent[0]!.requestHeaders?.response?.headerMutation)["content-length"],
      String(rewritten.length),
    );
    const b = streamedBody(h.sent, "requestBody");
    assert.equal(b.text, rewritten.toString());
    assert.ok(b.sizes.every((s) => s <= 62_000) && b.sizes.length === 3, `sizes ${b.sizes}`);
    assert.deepEqual(b.eos, [false, false, true]);
  });

  it("holds the stream while decide waits (queued), answering only once it settles", async () => {
    let release!: (d: Decision) => void;
    const h = harness(() => new Promise((r) => (release = r)));
    h.machine.handle(requestHeaders());
    h.machine.handle(body(CHAT, true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(h.sent.length, 0);
    assert.equal(h.machine.phase, "deciding");
    release(decision());
    await tick();
    assert.ok(h.sent[0]?.requestHeaders);
  });

  it("a stream reset while queued aborts decide's signal and ends the exchange once, as aborted", async () => {
    const h = harness(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new GatewayError("queueTimeout", "client gone"))),
        ),
    );
    h.machine.handle(requestHeaders());
    h.machine.handle(body(CHAT, true));
    await tick();
    const ex = h.exchange();
    assert.equal(ex.signal?.aborted, false);
    h.machine.reset();
    assert.equal(ex.signal?.aborted, true);
    await tick();
    assert.deepEqual(
      { ends: ex.ends, failed: ex.failed.length },
      { ends: 1, failed: 0 },
      "ended once, no error rendered",
    );
    assert.equal(h.sent.length, 0, "nothing is sent on a reset stream");
    h.machine.reset();
    h.machine.peerClosed();
    assert.equal(ex.ends, 1);
  });

  it("answers a refusal with an ImmediateResponse: status, OpenAI JSON, Retry-After, request id; then closes", async () => {
    const err = new GatewayError("shed", "pool saturated; retry later", { retryAfterSeconds: 1.2 });
    const h = harness(async () => {
      throw err;
    });
    h.machine.handle(requestHeaders());
    h.machine.handle(body(CHAT, true));
    await tick();
    const ir = h.sent[0]?.immediateResponse;
    assert.ok(ir);
    assert.equal(ir.status.code, 429);
    assert.deepEqual(JSON.parse(ir.body!.toString()), err.toJSON());
    assert.deepEqual(setOf(ir.headers), {
      "content-type": "application/json",
      "x-request-id": "req-1",
      "retry-after": "2",
    });
    assert.equal(ir.details, "request_shed");
    assert.equal(h.closed(), 1);
    assert.deepEqual(h.exchange().failed, [err]);
    assert.equal(h.exchange().ends, 1);
    h.machine.handle(body("late", true));
    assert.equal(h.sent.length, 1, "a closed stream sends nothing more");
  });

  it("passes the response through the exchange: header diff, rewritten chunks, completion", async () => {
    const h = await routed(async () => decision({ targetModel: "target-model" }));
    const before = h.sent.length;
    h.machine.handle({
      request: "responseHeaders",
      responseHeaders: {
        headers: {
          headers: [
            hv(":status", "200"),
            hv("content-type", "text/event-stream"),
            hv("content-length", "99"),
          ],
        },
      },
    });
    const rh = h.sent[before]?.responseHeaders?.response;
    assert.ok(rh);
    assert.deepEqual(setOf(rh.headerMutation), { "x-gateway-destination-endpoint-served": "10.0.0.1:8000" });
    assert.deepEqual(rh.headerMutation?.removeHeaders, ["content-length"]);
    assert.equal(rh.clearRouteCache, undefined);
    const ex = h.exchange();
    assert.deepEqual(ex.started, {
      status: 200,
      headers: { "content-type": "text/event-stream", "content-length": "99" },
    });

    h.machine.handle({
      request: "responseBody",
      responseBody: { body: Buffer.from('data: {"model":"target-model"}\n\n') },
    });
    h.machine.handle({
      request: "responseBody",
      responseBody: { body: Buffer.from("data: [DONE]\n\n"), endOfStream: true },
    });
    const b = streamedBody(h.sent.slice(before), "responseBody");
    assert.deepEqual(b, {
      text: 'data: {"model":"client-model"}\n\ndata: [DONE]\n\n',
      sizes: [32, 14],
      eos: [false, true],
    });
    assert.deepEqual(
      { ends: ex.ends, gone: ex.gone, responseEnds: ex.responseEnds > 0 },
      { ends: 1, gone: false, responseEnds: true },
    );
    assert.equal(h.machine.phase, "done");
    h.machine.peerClosed();
    assert.equal(ex.ends, 1);
    assert.equal(h.closed(), 1, "our side closes once Envoy has half-closed");
  });

  it("a reset after the response completed (Envoy may reset instead of half-closing) changes nothing", async () => {
    const h = await routed();
    h.machine.handle({
      request: "responseHeaders",
      responseHeaders: { headers: { headers: [hv(":status", "200")] }, endOfStream: true },
    });
    h.machine.reset();
    assert.deepEqual({ ends: h.exchange().ends, gone: h.exchange().gone }, { ends: 1, gone: false });
  });

  it("reports the endpoint Envoy connected to (upstream.address) as a new attempt", async () => {
    const h = await routed();
    h.machine.handle({
      request: "responseHeaders",
      responseHeaders: { headers: { headers: [hv(":status", "200")] }, endOfStream: true },
      attributes: {
        "envoy.filters.http.ext_proc": { fields: { "upstream.address": { stringValue: "10.0.0.2:8000" } } },
      },
    });
    const ex = h.exchange();
    assert.deepEqual(ex.attempts, ["10.0.0.1:8000", "10.0.0.2:8000"]);
    assert.deepEqual({ ends: ex.ends, responseEnds: ex.responseEnds }, { ends: 1, responseEnds: 1 });
  });

  it("a reset mid-response ends the exchange as aborted", async () => {
    const h = await routed();
    h.machine.handle({
      request: "responseHeaders",
      responseHeaders: { headers: { headers: [hv(":status", "200")] } },
    });
    h.machine.reset();
    assert.deepEqual({ gone: h.exchange().gone, ends: h.exchange().ends }, { gone: true, ends: 1 });
  });

  it("Envoy half-closing before the response headers ends the exchange as the client gone, and closes", async () => {
    const h = await routed();
    h.machine.peerClosed();
    assert.deepEqual(
      { gone: h.exchange().gone, ends: h.exchange().ends, closed: h.closed() },
      { gone: true, ends: 1, closed: 1 },
    );
  });

  it("routes a body-less request at once, with the headers answer only", async () => {
    const h = harness();
    h.machine.handle(requestHeaders([], true));
    await tick();
    assert.equal(h.exchange().body!.length, 0);
    assert.equal(h.sent.length, 1);
    const m = h.sent[0]!.requestHeaders?.response?.headerMutation;
    assert.deepEqual(setOf(m), { "x-gateway-destination-endpoint": "10.0.0.1:8000" });
  });

  it("request trailers end the body: the last body chunk is not end of stream, trailers are answered", async () => {
    const h = harness();
    h.machine.handle(requestHeaders());
    h.machine.handle(body(CHAT, false));
    h.machine.handle({ request: "requestTrailers", requestTrailers: {} });
    await tick();
    assert.deepEqual(streamedBody(h.sent, "requestBody").eos, [false]);
    assert.ok(h.sent.at(-1)?.requestTrailers);
  });

  it("honours the subset hint from filter metadata and custom header names", async () => {
    const h = harness(async () => decision(), { destinationHeader: "X-LLM-D-Gateway-Destination-Endpoint" });
    const msg = requestHeaders([
      ["x-llm-d-gateway-destination-endpoint", "6.6.6.6:1"],
      ["x-gateway-destination-endpoint-subset", "6.6.6.6:1"],
    ]);
    msg.metadataContext = {
      filterMetadata: {
        "envoy.lb.subset_hint": {
          fields: {
            "x-llm-d-gateway-destination-endpoint-subset": {
              listValue: { values: [{ stringValue: "10.0.0.2:8000" }, { stringValue: "10.0.0.3:8000" }] },
            },
          },
        },
      },
    };
    h.machine.handle(msg);
    h.machine.handle(body(CHAT, true));
    await tick();
    assert.deepEqual(h.exchange().subset, ["10.0.0.2:8000", "10.0.0.3:8000"]);
    const common = h.sent[0]!.requestHeaders?.response;
    assert.equal(setOf(common?.headerMutation)["x-llm-d-gateway-destination-endpoint"], "10.0.0.1:8000");
    assert.deepEqual(common?.headerMutation?.removeHeaders, ["x-gateway-destination-endpoint-subset"]);
    assert.ok(
      h.sent[0]!.dynamicMetadata?.fields?.["envoy.lb"]?.structValue?.fields?.[
        "x-llm-d-gateway-destination-endpoint"
      ],
    );
  });

  it("without protocol_config (Envoy before 1.34) assumes FULL_DUPLEX_STREAMED: the headers answer waits", async () => {
    const h = harness();
    const msg = requestHeaders();
    delete msg.protocolConfig;
    h.machine.handle(msg);
    assert.equal(h.sent.length, 0);
    h.machine.handle(body(CHAT, true));
    await tick();
    assert.ok(h.sent[0]?.requestHeaders);
    assert.equal(streamedBody(h.sent, "requestBody").text, CHAT);
  });

  it("refuses a body over the limit with 413, without starting an exchange", () => {
    const h = harness(async () => decision(), { bodyLimit: 10 });
    h.machine.handle(requestHeaders());
    h.machine.handle(body("x".repeat(11), false));
    assert.equal(h.sent[0]?.immediateResponse?.status.code, 413);
    assert.equal(h.closed(), 1);
  });

  it("answers an out-of-order message (body before headers) with 500 and closes", () => {
    const h = harness();
    h.machine.handle(body(CHAT, true));
    assert.equal(h.sent[0]?.immediateResponse?.status.code, 500);
    assert.match(h.sent[0]!.immediateResponse!.body!.toString(), /protocol error/);
  });

  it("an exchange that throws a non-gateway error gives 500 internal_error", async () => {
    const h = harness(async () => {
      throw new TypeError("bug");
    });
    h.machine.handle(requestHeaders());
    h.machine.handle(body(CHAT, true));
    await tick();
    assert.equal(h.sent[0]?.immediateResponse?.status.code, 500);
    assert.equal(JSON.parse(h.sent[0]!.immediateResponse!.body!.toString()).error.code, "internal_error");
  });
});

describe("ExtProcStream, other body modes", () => {
  it("BUFFERED: headers answered at once; destination, body and metadata ride on the body answer", async () => {
    const rewritten = Buffer.from(CHAT.replace("client-model", "target-model"));
    const h = harness(async () => decision({ body: rewritten, bodyRewritten: true }));
    h.machine.handle(
      requestHeaders([["x-gateway-destination-endpoint", "6.6.6.6:1"]], false, {
        req: BodySendMode.BUFFERED,
        res: BodySendMode.BUFFERED,
      }),
    );
    assert.deepEqual(h.sent[0], {
      requestHeaders: { response: { headerMutation: { removeHeaders: ["x-gateway-destination-endpoint"] } } },
    });
    h.machine.handle(body(CHAT, true));
    await tick();
    const common = h.sent[1]?.requestBody?.response;
    assert.ok(common);
    assert.equal(setOf(common.headerMutation)["x-gateway-destination-endpoint"], "10.0.0.1:8000");
    assert.equal(setOf(common.headerMutation)["content-length"], String(rewritten.length));
    assert.deepEqual(common.bodyMutation, { body: rewritten });
    assert.equal(common.clearRouteCache, true);
    assert.ok(h.sent[1]?.dynamicMetadata);

    h.machine.handle({
      request: "responseHeaders",
      responseHeaders: { headers: { headers: [hv(":status", "200")] } },
    });
    h.machine.handle({
      request: "responseBody",
      responseBody: { body: Buffer.from('{"model":"target-model"}'), endOfStream: true },
    });
    assert.deepEqual(h.sent.at(-1)?.responseBody?.response?.bodyMutation, {
      body: Buffer.from('{"model":"client-model"}'),
    });
    assert.deepEqual({ ends: h.exchange().ends, gone: h.exchange().gone }, { ends: 1, gone: false });
  });

  it("STREAMED without send_body_without_waiting_for_header_response is refused with a hint", () => {
    const h = harness();
    h.machine.handle(requestHeaders([], false, { req: BodySendMode.STREAMED }));
    const ir = h.sent[0]?.immediateResponse;
    assert.equal(ir?.status.code, 500);
    assert.match(ir!.body!.toString(), /FULL_DUPLEX_STREAMED or BUFFERED/);
  });

  it("STREAMED with early body: one answer per chunk, the rewritten body replacing the first", async () => {
    const rewritten = Buffer.from("rewritten");
    const h = harness(async () => decision({ body: rewritten, bodyRewritten: true }));
    h.machine.handle(
      requestHeaders([], false, { req: BodySendMode.STREAMED, res: BodySendMode.STREAMED, early: true }),
    );
    h.machine.handle(body(CHAT.slice(0, 5), false));
    h.machine.handle(body(CHAT.slice(5), true));
    await tick();
    assert.ok(h.sent[0]?.requestHeaders);
    assert.deepEqual(
      h.sent.slice(1).map((r) => r.requestBody?.response?.bodyMutation),
      [{ body: rewritten }, { clearBody: true }],
    );
  });
});
