import assert from "node:assert/strict";
import { test } from "node:test";
import { GatewayError } from "../../src/errors.ts";
import { parseRequest } from "../../src/requestcontrol/parse-request.ts";

const parse = (body: string, headers: Record<string, string> = {}, url = "/v1/completions", id = "id-1") =>
  parseRequest({ method: "POST", url, headers }, Buffer.from(body), id);

test("steering headers are removed, the model header replaced, x-request-id kept", () => {
  const p = parse(
    '{"model":"qwen","prompt":"hi"}',
    {
      "x-gateway-destination-endpoint": "10.0.0.9:8000",
      "x-gateway-destination-endpoint-subset": "10.0.0.9:8000",
      "x-gateway-model-name": "spoofed",
      "x-request-id": "abc",
    },
    "/v1/completions",
    "abc",
  );
  assert.equal(p.headers["x-gateway-destination-endpoint"], undefined);
  assert.equal(p.headers["x-gateway-destination-endpoint-subset"], undefined);
  assert.equal(p.headers["x-gateway-model-name"], "qwen");
  assert.equal(p.id, "abc");
  assert.deepEqual(p.removedHeaders, [
    "x-gateway-destination-endpoint",
    "x-gateway-destination-endpoint-subset",
  ]);
  assert.equal(p.prefixText, "hi");
});

test("x-request-id carries the exchange's id", () => {
  const p = parse('{"model":"qwen","prompt":"hi"}', {}, "/v1/completions", "generated-1");
  assert.equal(p.id, "generated-1");
  assert.equal(p.headers["x-request-id"], "generated-1");
});

test("chat messages become role-prefixed lines for prefix affinity", () => {
  const p = parse(
    '{"model":"m","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}]}',
    {},
    "/v1/chat/completions",
  );
  assert.equal(p.prefixText, "system: be brief\nuser: hi");
  assert.equal(p.stream, true);
});

test("bad bodies are refused with the right error kind and param", () => {
  const kind = (body: string, url?: string) => {
    try {
      parse(body, {}, url);
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
