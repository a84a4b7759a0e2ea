/**
 * Issue 13, finding 7: client mistakes that were answered 500 or 502 (a URIError, a 502 for
 * `POST *`, JSON.stringify overflowing on a 100k-deep prompt with a model rewrite, a TypeError
 * from a content part's `text`). Each is 400 with an OpenAI error body, and the gateway serves the
 * next request.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { useEchoGateway } from "./echo-gateway.ts";
import { type RawResponse, rawRequest } from "./raw-http.ts";

// `chat` is rewritten to `chat-v1` on the way to the engine.
const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec: {selector: {app: t}, targetPortNumber: 8000}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec: {modelName: chat, criticality: Critical, poolRef: {name: pool}, targetModels: [{name: chat-v1}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

const gw = useEchoGateway(MANIFESTS);

/** A 400 with an OpenAI-shaped error body; returns its error. */
function openAi400(r: RawResponse): { message: string; type: string; code: string; param: string | null } {
  assert.equal(r.status, 400, r.body);
  assert.equal(r.headers["content-type"], "application/json");
  const { error } = JSON.parse(r.body) as {
    error: { message: string; type: string; code: string; param: string | null };
  };
  assert.equal(error.type, "invalid_request_error");
  assert.equal(typeof error.message, "string");
  return error;
}

async function stillServes(): Promise<void> {
  const r = await gw.post("/v1/completions", JSON.stringify({ model: "chat", prompt: "hi" }));
  assert.equal(r.status, 200, r.body);
}

test("GET /v1/models/% (bad percent-encoding) is 400", async () => {
  const r = await rawRequest(gw.port, "GET /v1/models/% HTTP/1.1\r\nhost: x");
  assert.match(openAi400(r).message, /percent-encoding/);
  await stillServes();
});

test("POST * is 400", async () => {
  const r = await gw.post("*", JSON.stringify({ model: "chat", prompt: "hi" }));
  openAi400(r);
  await stillServes();
});

test("a 100k-deep prompt for a rewritten model is 400, not a stack overflow", async () => {
  const deep = `{"model":"chat","prompt":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  const r = await gw.post("/v1/completions", deep);
  assert.equal(openAi400(r).code, "request_too_complex");
  await stillServes();
});

test("a rewritten model is spliced into the body; the rest reaches the engine unchanged", async () => {
  const body = '{"prompt":"a\\u00e9 \\"b\\"",  "model" : "chat","n":1.50}';
  const r = await gw.post("/v1/completions", body);
  assert.equal(r.status, 200, r.body);
  assert.equal(gw.upstream.received.at(-1)?.body["model"], "chat-v1");
  assert.equal(gw.upstream.received.at(-1)?.body["prompt"], 'aé "b"');
});

test('{"text":{"toString":1}} in a chat content part is 400 naming the part', async () => {
  const body = JSON.stringify({
    model: "chat",
    messages: [{ role: "user", content: [{ type: "text", text: { toString: 1 } }] }],
  });
  const error = openAi400(await gw.post("/v1/chat/completions", body));
  assert.equal(error.param, "messages[0].content[0].text");
  const notObject = JSON.stringify({ model: "chat", messages: [{ role: "user", content: [7] }] });
  assert.equal(openAi400(await gw.post("/v1/chat/completions", notObject)).param, "messages[0].content[0]");
  const fine = JSON.stringify({
    model: "chat",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "hi" },
          { type: "image_url", image_url: {} },
        ],
      },
    ],
  });
  assert.equal((await gw.post("/v1/chat/completions", fine)).status, 200);
});
