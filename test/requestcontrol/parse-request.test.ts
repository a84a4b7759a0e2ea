import assert from "node:assert/strict";
import { test } from "node:test";
import { GatewayError } from "../../src/errors.ts";
import { parseRequest } from "../../src/requestcontrol/parse-request.ts";

const inbound = (body: string, headers: Record<string, string> = {}, url = "/v1/completions") => ({
  method: "POST",
  url,
  headers,
  body: Buffer.from(body),
});

test("steering headers are removed, the model header replaced, x-request-id kept", () => {
  const p = parseRequest(
    inbound('{"model":"qwen","prompt":"hi"}', {
      "x-gateway-destination-endpoint": "10.0.0.9:8000",
      "x-gateway-destination-endpoint-subset": "10.0.0.9:8000",
      "x-gateway-model-name": "spoofed",
      "x-request-id": "abc",
    }),
  );
  assert.equal(p.headers["x-gateway-destination-endpoint"], undefined);
  assert.equal(p.headers["x-gateway-destination-endpoint-subset"], undefined);
  assert.equal(p.headers["x-gateway-model-name"], "qwen");
  assert.equal(p.id, "abc");
  assert.equal(p.prefixText, "hi");
});

test("x-request-id is generated when absent", () => {
  const p = parseRequest(inbound('{"model":"qwen","prompt":"hi"}'));
  assert.match(p.id, /^[0-9a-f-]{36}$/);
  assert.equal(p.headers["x-request-id"], p.id);
});

test("chat messages become role-prefixed lines for prefix affinity", () => {
  const p = parseRequest(
    inbound(
      '{"model":"m","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}]}',
      {},
      "/v1/chat/completions",
    ),
  );
  assert.equal(p.prefixText, "system: be brief\nuser: hi");
  assert.equal(p.stream, true);
});

test("bad bodies are refused with the right error kind and param", () => {
  const kind = (body: string, url?: string) => {
    try {
      parseRequest(inbound(body, {}, url));
    } catch (e) {
      assert.ok(e instanceof GatewayError);
      return [e.status, e.toJSON().error.code, e.param];
    }
    assert.fail("expected an error");
  };
  assert.deepEqual(kind('{"model":'), [400, "invalid_json", null]);
  assert.deepEqual(kind("[1]"), [400, "invalid_request", null]);
  assert.deepEqual(kind('{"prompt":"x"}'), [400, "invalid_request", "model"]);
  assert.deepEqual(kind('{"model":3,"prompt":"x"}'), [400, "invalid_request", "model"]);
  assert.deepEqual(kind('{"model":"m","prompt":"x","stream":"yes"}'), [400, "invalid_request", "stream"]);
  assert.deepEqual(kind('{"model":"m","prompt":"x","max_tokens":0}'), [400, "invalid_request", "max_tokens"]);
  assert.deepEqual(kind('{"model":"m"}'), [400, "invalid_request", "prompt"]);
  assert.deepEqual(kind('{"model":"m","messages":[]}', "/v1/chat/completions"), [
    400,
    "invalid_request",
    "messages",
  ]);
});
