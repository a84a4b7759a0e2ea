/**
 * Issue 13, finding 3: an HTTPRoute RegularExpression with nested quantifiers must not let one
 * request block the gateway (with a backtracking engine a 40-character model name takes minutes).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "undici";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: p}
spec:
  selector: {app: q}
  targetPortNumber: 8000
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: p}]
    matches:
    - headers:
      - type: RegularExpression
        name: X-Gateway-Model-Name
        value: "([a-z]+-?)+-v[0-9]+"
`;

test("a hostile model name against a nested-quantifier route regex is answered at once", async () => {
  const t = tempFiles({ "m.yaml": MANIFESTS });
  const gw = await startGatewayProcess(["-f", t.dir]);
  try {
    const post = (model: string) =>
      request(`${gw.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, prompt: "x", max_tokens: 1 }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    const hostile = await post(`${"a".repeat(40)}!`);
    assert.equal(hostile.statusCode, 404, "no route matches the hostile name");
    const body = (await hostile.body.json()) as { error: { code: string } };
    assert.equal(body.error.code, "route_not_found");
    const health = await request(`${gw.url}/health`, { headersTimeout: 10_000 });
    assert.equal(health.statusCode, 200);
    await health.body.dump();
    // The route still matches what it should (RE2 semantics, whole value).
    const ok = await post("travel-helper-v1");
    assert.notEqual(ok.statusCode, 404);
    await ok.body.dump();
  } finally {
    await gw.stop();
    t.cleanup();
  }
});
