/**
 * Finding 4: a pool with no endpoint. Requests wait for one (a pool scaling up from zero) for at
 * most the no-endpoint TTL, then get 503 `no_ready_endpoint` saying why; the gateway warns at
 * start-up and on every reload when a pool selects no endpoint.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { request } from "undici";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import { DEFAULT_NO_ENDPOINT_TTL_MS } from "../../src/requestcontrol/failure-policy.ts";
import { captureLogger } from "../helpers/capture-logger.ts";
import { FakeTimers, flushPromises } from "../helpers/fake-timers.ts";
import { startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { endpointsYaml, startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const SEED = join(import.meta.dirname, "..", "..", "examples", "seed");

const POOL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: p
  annotations: {inference-epp-env.networking.x-k8s.io/experimental-use-queueing: "true"}
spec:
  selector: {app: t}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec:
  modelName: m
  criticality: Critical
  poolRef: {name: p}
`;

const files = tempFiles({
  "pool.yaml": POOL,
  "plain.yaml": POOL.replace(/ {2}annotations: .*\n/, ""),
  // The seed pool's extensionRef names qwen-ext-proc: this document applies to it.
  "ttl.yaml": `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: qwen-ext-proc}
noEndpointTTL: 1s
`,
});
after(() => files.cleanup());

const body = (model: string) => Buffer.from(JSON.stringify({ model, prompt: "hello" }));

test("the seed's queueing pool without --endpoints: a warning at start-up, then 503 after the TTL", async () => {
  const gw = await startGatewayProcess(["-f", SEED, "-f", files.path("ttl.yaml"), "--log-format", "json"]);
  try {
    assert.match(
      gw.stderr(),
      /InferencePool default\/qwen-pool selects no endpoint: no endpoints are configured \(standalone: --endpoints FILE lists them\); its requests wait up to 1 s for one to join, then get 503/,
    );
    const started = performance.now();
    const res = await request(`${gw.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body("qwen"),
      headersTimeout: 15_000,
    });
    const waited = performance.now() - started;
    const json = (await res.body.json()) as { error: { code: string; message: string } };
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers["retry-after"], "1");
    assert.equal(json.error.code, "no_ready_endpoint");
    assert.match(
      json.error.message,
      /InferencePool default\/qwen-pool has no endpoint \(no model server carries its selector labels app=qwen\): none joined within 1 s/,
    );
    assert.ok(waited >= 900 && waited < 10_000, `waited ${waited.toFixed(0)} ms`);
  } finally {
    await gw.stop();
  }
});

test(`by default a request waits ${DEFAULT_NO_ENDPOINT_TTL_MS / 1000} s (at most 30 s) for an endpoint, then 503`, async () => {
  assert.ok(DEFAULT_NO_ENDPOINT_TTL_MS <= 30_000);
  const timers = new FakeTimers(Date.now());
  const datastore = new Datastore(loadConfig([files.path("pool.yaml")], { defaultPort: 8081 }));
  const director = new Director(datastore, { timers });
  after(() => director.close());
  const ex = director.begin(
    { method: "POST", url: "/v1/completions", headers: {} },
    { kind: "listeners", listenerKeys: ["*"] },
  );
  let outcome: unknown;
  ex.decide(body("m")).then(
    () => (outcome = "decided"),
    (e: unknown) => (outcome = e),
  );
  await timers.advance(DEFAULT_NO_ENDPOINT_TTL_MS - 1);
  assert.equal(outcome, undefined, "still waiting just before the TTL");
  await timers.advance(1);
  await flushPromises();
  assert.equal(ex.fail(outcome).status, 503);

  // Scale from zero: an endpoint joining ends the wait, and the request is scheduled there.
  const ex2 = director.begin(
    { method: "POST", url: "/v1/completions", headers: {} },
    { kind: "listeners", listenerKeys: ["*"] },
  );
  const decided = ex2.decide(body("m"));
  await timers.advance(5_000);
  datastore.apply(datastore.config, [{ host: "10.0.0.9", labels: { app: "t" } }]);
  assert.deepEqual((await decided).endpoints, ["10.0.0.9:8000"]);
  assert.equal(timers.timeouts, 1, "the TTL's timer is cleared (the outlier sweep's remains)");
});

test("without queueing, a pool with no endpoint answers 503 at once, saying why", async () => {
  const datastore = new Datastore(loadConfig([files.path("plain.yaml")], { defaultPort: 8081 }));
  const director = new Director(datastore, { timers: new FakeTimers(Date.now()) });
  after(() => director.close());
  const ex = director.begin(
    { method: "POST", url: "/v1/completions", headers: {} },
    { kind: "listeners", listenerKeys: ["*"] },
  );
  const e = await ex.decide(body("m")).catch((err: unknown) => err);
  const res = ex.fail(e);
  assert.equal(res.status, 503);
  assert.match(
    JSON.parse(res.body).error.message,
    /InferencePool default\/p has no endpoint \(no model server carries its selector labels app=t\)/,
  );
});

test("an endpoints file whose labels match no pool: warned at start-up and on every reload; a waiting request is served once one matches", async () => {
  const up = await startFakeUpstream();
  const { logger, records } = captureLogger();
  const h = await startInProcessGateway(
    POOL,
    [up.address],
    { app: "other" },
    { logger, watchIntervalMs: 50 },
  );
  try {
    const warnings = () =>
      records.filter((r) =>
        /InferencePool default\/p selects no endpoint: none of the 1 endpoint listed carries its selector labels app=t/.test(
          r.msg,
        ),
      );
    assert.equal(warnings().length, 1, "at start-up");
    const reloads = () => records.filter((r) => r.msg === "configuration reloaded").length;
    writeFileSync(h.files.path("endpoints.yaml"), endpointsYaml([up.address], { app: "still-other" }));
    while (reloads() < 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(warnings().length, 2, "again on the reload");

    const pending = request(`${h.gw.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body("m"),
    });
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(h.files.path("endpoints.yaml"), endpointsYaml([up.address], { app: "t" }));
    const res = await pending;
    await res.body.text();
    assert.equal(res.statusCode, 200, "served by the endpoint that joined");
    assert.equal(up.received.length, 1);
  } finally {
    await h.close();
    await up.close();
  }
});
