// igw's hand-written ext_proc codec (src/extproc/wire-reader.ts, wire-writer.ts) against protobufjs
// on the same proto/ files (@grpc/proto-loader): requests decode to what proto-loader gives, and
// responses encode to bytes proto-loader decodes to the same message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProcessingRequest, ProcessingResponse } from "../../src/extproc/protocol.ts";
import { decodeProcessingRequest } from "../../src/extproc/wire-reader.ts";
import { encodeProcessingResponse } from "../../src/extproc/wire-writer.ts";
import { processMethod } from "../helpers/extproc-proto.ts";

const loader = processMethod();
const withDefaults = processMethod(true);
const raw = (s: string) => Buffer.from(s, "utf8");
const headers = (...kv: [string, string][]) => ({
  headers: kv.map(([key, v]) => ({ key, rawValue: raw(v) })),
});

const REQUESTS: ProcessingRequest[] = [
  {
    requestHeaders: {
      headers: {
        headers: [
          { key: ":path", rawValue: raw("/v1/completions") },
          { key: ":method", value: "POST" },
          { key: "x-empty", rawValue: Buffer.alloc(0) },
          { key: "x-utf8", rawValue: raw("grüße, 東京") },
        ],
      },
    },
    protocolConfig: {
      requestBodyMode: 4,
      responseBodyMode: 4,
      sendBodyWithoutWaitingForHeaderResponse: true,
    },
    metadataContext: {
      filterMetadata: {
        "envoy.lb.subset_hint": {
          fields: {
            "x-gateway-destination-endpoint-subset": {
              listValue: { values: [{ stringValue: "10.0.0.1:8000" }, { stringValue: "10.0.0.2:8000" }] },
            },
            n: { numberValue: 1.5 },
            b: { boolValue: true },
            z: { nullValue: 0 },
            s: { structValue: { fields: { inner: { stringValue: "" } } } },
            e: { listValue: {} },
          },
        },
      },
    },
  },
  { requestHeaders: { headers: headers([":method", "GET"]), endOfStream: true }, observabilityMode: true },
  {
    requestBody: {
      body: raw(JSON.stringify({ model: "qwen", prompt: "x".repeat(70_000) })),
      endOfStream: true,
    },
  },
  { requestBody: { endOfStream: true } },
  { requestTrailers: { trailers: headers(["x-t", "1"]) } },
  { requestTrailers: {} },
  {
    responseHeaders: { headers: headers([":status", "200"], ["content-type", "application/json"]) },
    attributes: {
      "envoy.filters.http.ext_proc": { fields: { "upstream.address": { stringValue: "10.0.0.1:8000" } } },
    },
  },
  { responseBody: { body: raw("data: {}\n\n") } },
  { responseTrailers: { trailers: {} } },
  { metadataContext: {} },
];

const RESPONSES: ProcessingResponse[] = [
  {
    requestHeaders: {
      response: {
        headerMutation: {
          setHeaders: [
            {
              header: { key: "x-gateway-destination-endpoint", rawValue: raw("10.0.0.1:8000") },
              appendAction: 2,
            },
            { header: { key: "content-length", rawValue: raw("55") }, appendAction: 2 },
            { header: { key: "x-utf8", rawValue: raw("東京") } },
          ],
          removeHeaders: ["x-gateway-destination-endpoint-subset", "x-remove"],
        },
        clearRouteCache: true,
      },
    },
    dynamicMetadata: {
      fields: {
        "envoy.lb": {
          structValue: {
            fields: { "x-gateway-destination-endpoint": { stringValue: "10.0.0.1:8000,10.0.0.2:8000" } },
          },
        },
        other: {
          listValue: {
            values: [{ numberValue: -2.25 }, { boolValue: false }, { nullValue: 0 }, { stringValue: "" }],
          },
        },
      },
    },
  },
  {
    requestBody: {
      response: {
        bodyMutation: { streamedResponse: { body: Buffer.alloc(62_000, 0x61), endOfStream: false } },
      },
    },
  },
  {
    requestBody: {
      response: { bodyMutation: { streamedResponse: { body: Buffer.alloc(0), endOfStream: true } } },
    },
  },
  { requestBody: { response: { bodyMutation: { body: raw('{"model":"travel-helper-v1"}') } } } },
  { responseBody: { response: { bodyMutation: { clearBody: true } } } },
  { responseBody: { response: { bodyMutation: { body: Buffer.alloc(0) } } } },
  { responseHeaders: { response: { headerMutation: { setHeaders: [] }, clearRouteCache: false } } },
  { responseHeaders: {} },
  { requestHeaders: { response: { status: 1 } } },
  { requestTrailers: {} },
  { responseTrailers: { headerMutation: { removeHeaders: ["x-a"] } } },
  {
    immediateResponse: {
      status: { code: 429 },
      headers: { setHeaders: [{ header: { key: "retry-after", rawValue: raw("3") }, appendAction: 2 }] },
      body: raw('{"error":{"message":"the pool is saturated","code":"request_shed"}}'),
      details: "request_shed",
    },
  },
  { immediateResponse: { status: { code: 0 } } },
];

describe("ext_proc wire codec", () => {
  it("decodes every request as proto-loader does", () => {
    for (const req of REQUESTS) {
      const bytes = loader.requestSerialize(req);
      assert.deepStrictEqual(
        decodeProcessingRequest(bytes),
        loader.requestDeserialize(bytes),
        JSON.stringify(req).slice(0, 200),
      );
    }
  });

  it("skips fields it does not know", () => {
    const bytes = loader.requestSerialize(REQUESTS[1]!);
    // field 50 (varint 7), field 51 (length-delimited "ab"), field 52 (fixed64), field 53 (fixed32)
    const unknown = Buffer.from([
      0x90, 0x03, 7, 0x9a, 0x03, 2, 0x61, 0x62, 0xa1, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 0xad, 0x03, 1, 2, 3, 4,
    ]);
    assert.deepStrictEqual(
      decodeProcessingRequest(Buffer.concat([unknown, bytes])),
      decodeProcessingRequest(bytes),
    );
  });

  it("throws a RangeError on truncated or malformed input", () => {
    const bytes = loader.requestSerialize(REQUESTS[0]!);
    assert.throws(() => decodeProcessingRequest(bytes.subarray(0, bytes.length - 3)), RangeError);
    assert.throws(() => decodeProcessingRequest(Buffer.from([0x12, 0x80])), RangeError);
    assert.throws(() => decodeProcessingRequest(Buffer.from([0x13])), RangeError, "wire type 3 (groups)");
  });

  it("encodes every response to bytes proto-loader decodes to the same message", () => {
    for (const res of RESPONSES) {
      const ours = encodeProcessingResponse(res);
      const theirs = withDefaults.responseSerialize(res);
      assert.deepStrictEqual(
        withDefaults.responseDeserialize(ours),
        withDefaults.responseDeserialize(theirs),
        JSON.stringify(res).slice(0, 200),
      );
    }
  });

  it("leaves out scalars at their default, as proto3 encoders do", () => {
    const res: ProcessingResponse = { responseHeaders: { response: { clearRouteCache: false, status: 0 } } };
    // field 2 (2 bytes: field 1, an empty CommonResponse)
    assert.deepStrictEqual([...encodeProcessingResponse(res)], [0x12, 2, 0x0a, 0]);
  });
});
