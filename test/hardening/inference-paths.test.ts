/**
 * Issue 13, finding 2: the seed's route matches headers only, so any POST path reached the model
 * servers (`/admin/kill` killed one). Only the inference APIs are proxied by default, plus paths
 * an HTTPRoute names in a path match; everything else is 404 from the gateway, before its body is
 * read. Absolute-form targets and `*` are 400.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { useEchoGateway } from "./echo-gateway.ts";
import { errorCode, rawRequest } from "./raw-http.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec: {selector: {app: t}, targetPortNumber: 8000}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec: {modelName: m, criticality: Critical, poolRef: {name: pool}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: seed-like}
spec:
  rules:
  - matches: [{headers: [{name: X-Gateway-Model-Name, value: m}]}]
    backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: tokenizer}
spec:
  rules:
  - matches: [{path: {type: Exact, value: /tokenize}}]
    backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

const gw = useEchoGateway(MANIFESTS);

test("the inference APIs are proxied", async () => {
  const bodies: Record<string, object> = {
    "/v1/completions": { model: "m", prompt: "hi" },
    "/v1/chat/completions": { model: "m", messages: [{ role: "user", content: "hi" }] },
    "/v1/embeddings": { model: "m", input: "hi" },
    "/v1/responses": { model: "m", input: "hi" },
  };
  for (const [path, body] of Object.entries(bodies)) {
    const r = await gw.post(path, JSON.stringify(body));
    assert.equal(r.status, 200, `${path}: ${r.body}`);
  }
});

test("other paths are 404 from the gateway and never reach a model server", async () => {
  const before = gw.upstream.received.length;
  const body = JSON.stringify({ model: "m", prompt: "x" });
  for (const path of [
    "/admin/kill",
    "/admin/config",
    "/detokenize",
    "/v1/load_lora_adapter",
    "/v1/unload_lora_adapter",
    "/reset_prefix_cache",
    "/sleep",
    "/v1/completions/../admin/kill",
  ]) {
    const r = await gw.post(path, body);
    assert.equal(r.status, 404, `${path}: ${r.body}`);
    assert.equal(errorCode(r), "route_not_found");
    assert.match(r.body, /is not proxied: only \/v1\/completions/);
  }
  assert.equal(gw.upstream.received.length, before, "nothing reached the model server");
  const metrics = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
  assert.match(
    metrics,
    /inference_model_request_error_total\{model_name="",target_model_name="",error_code="route_not_found"\} 8\n/,
    "the refusals are counted",
  );
});

test("a 404 for an unproxied path does not read the body (a huge declared length is not awaited)", async () => {
  const r = await rawRequest(
    gw.port,
    "POST /admin/kill HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 15000000",
  );
  assert.equal(r.status, 404);
  assert.equal(r.headers["connection"], "close");
});

test("a path an HTTPRoute names by a path match is proxied", async () => {
  const r = await gw.post("/tokenize", JSON.stringify({ model: "m", prompt: "hi" }));
  assert.equal(r.status, 200, r.body);
  assert.equal(gw.upstream.received.at(-1)?.url, "/tokenize");
});

test("absolute-form and asterisk-form targets are 400", async () => {
  for (const target of ["http://evil.example/v1/completions", "*"]) {
    const r = await gw.post(target, JSON.stringify({ model: "m", prompt: "hi" }));
    assert.equal(r.status, 400, target);
    assert.equal(errorCode(r), "invalid_http_request");
  }
});
