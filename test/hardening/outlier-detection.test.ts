/**
 * Outlier detection (issue 13, finding 5) on the director with a fake clock: an endpoint that keeps
 * answering 5xx is ejected (no first attempts), for a time that grows with each ejection, returns
 * after a sweep, and never more than the pool's maximum share is ejected. A 429 is retried on
 * another endpoint unless the pool's retry policy says otherwise. Metrics and log lines report it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { GatewayMetrics } from "../../src/observability/gateway-metrics.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import { captureLogger } from "../helpers/capture-logger.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const POOL = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: p}
spec:
  selector: {matchLabels: {app: t}}
  targetPorts: [{number: 8000}]
`;

function picker(sections: string): string {
  return `---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
${sections}
`;
}

const files = tempFiles({
  "default.yaml": POOL,
  "half.yaml": POOL + picker("outlierDetection: {maxEjectionPercent: 50, consecutive5xx: 3}"),
  "no429.yaml": POOL + picker("retry: {retriableStatusCodes: []}"),
  "bad.yaml":
    POOL + picker("outlierDetection:\n  consecutive5xx: -1\n  maxEjectionPercnt: 50\nnoEndpointTTL: 30"),
});
after(() => files.cleanup());

const ENDPOINTS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];

function setup(file = "default.yaml") {
  const timers = new FakeTimers(Date.now());
  const datastore = new Datastore(loadConfig([files.path(file)], { defaultPort: 8081 }));
  datastore.apply(
    datastore.config,
    ENDPOINTS.map((host) => ({ host, labels: { app: "t" } })),
  );
  const { logger, records } = captureLogger();
  const director = new Director(datastore, { timers, logger });
  const metrics = new GatewayMetrics(datastore);
  metrics.subscribeOutliers(director.outliers, datastore);
  after(() => director.close());
  /**
   * One request to completion: each attempt's endpoint answers `answer(endpoint)`; returns the
   * endpoints attempted and the status relayed.
   */
  let seq = 0;
  const request = async (answer: (endpoint: string) => number) => {
    const ex = director.begin(
      { method: "POST", url: "/v1/completions", headers: {} },
      { kind: "listeners", listenerKeys: ["*"] },
    );
    const d = await ex.decide(
      Buffer.from(JSON.stringify({ model: "m", prompt: `request ${seq++} ${Math.random()}` })),
    );
    const tried: string[] = [];
    let endpoint: string | undefined = d.endpoints[0];
    let status = 0;
    while (endpoint !== undefined) {
      ex.attempt(endpoint);
      tried.push(endpoint);
      status = answer(endpoint);
      const action = ex.responseStarted(status, {});
      if (action.kind === "relay") {
        ex.responseEnd();
        break;
      }
      endpoint = ex.attemptFailed({ kind: "status", status });
    }
    ex.end();
    return { tried, status };
  };
  /** Requests until `done()` (at most 1000: the scheduler spreads distinct prompts over idle endpoints). */
  const requestUntil = async (done: () => boolean, answer: (endpoint: string) => number) => {
    for (let i = 0; i < 1000 && !done(); i++) await request(answer);
    assert.ok(done(), "reached within 1000 requests");
  };
  return { timers, datastore, director, metrics, records, request, requestUntil };
}

const BAD = "10.0.0.1:8000";
const failing =
  (...bad: string[]) =>
  (endpoint: string) =>
    bad.includes(endpoint) ? 503 : 200;

test("an endpoint answering 503 five times in a row is ejected and gets no first attempts", async () => {
  const s = setup();
  let firstOnBad = 0;
  for (let i = 0; i < 200; i++) {
    const { tried, status } = await s.request(failing(BAD));
    assert.equal(status, 200, "clients are saved by the retry");
    if (tried[0] === BAD) firstOnBad++;
  }
  assert.equal(firstOnBad, 5, "the five failures that eject it, then none");
  const state = s.datastore.endpoint(BAD)!;
  assert.equal(state.ejected, true);
  assert.equal(state.ejections, 1);
  const ejectLog = s.records.find((r) => /ejected from InferencePool/.test(r.msg));
  assert.match(
    ejectLog?.msg ?? "",
    /endpoint 10\.0\.0\.1:8000 ejected from InferencePool default\/p for 30000 ms \(consecutive 5xx, ejection 1\)/,
  );
  const text = await s.metrics.registry.metrics();
  assert.match(text, /inference_pool_endpoint_ejections_total\{name="p",endpoint="10\.0\.0\.1:8000"\} 1/);
  assert.match(text, /inference_pool_endpoint_ejected\{name="p",endpoint="10\.0\.0\.1:8000"\} 1/);
  assert.match(text, /inference_pool_endpoint_ejected\{name="p",endpoint="10\.0\.0\.2:8000"\} 0/);
});

test("the ejection ends at a sweep after base time × ejections; a repeat offender stays out longer", async () => {
  const s = setup();
  const state = s.datastore.endpoint(BAD)!;
  await s.requestUntil(() => state.ejected, failing(BAD));
  assert.equal(state.ejectedUntil - s.timers.now(), 30_000);
  await s.timers.advance(29_000);
  assert.equal(state.ejected, true, "still out before its time is up");
  await s.timers.advance(11_000);
  assert.equal(state.ejected, false, "returned by the sweep after 30 s");
  assert.ok(
    s.records.some((r) => /endpoint 10\.0\.0\.1:8000 returns to InferencePool default\/p/.test(r.msg)),
  );
  // It still fails: ejected again, now for twice the base time.
  await s.requestUntil(() => state.ejected, failing(BAD));
  assert.equal(state.ejections, 2);
  assert.equal(state.ejectedUntil - s.timers.now(), 60_000);
  const text = await s.metrics.registry.metrics();
  assert.match(text, /inference_pool_endpoint_ejections_total\{name="p",endpoint="10\.0\.0\.1:8000"\} 2/);
  // Back in service and healthy: each sweep forgives one ejection.
  await s.timers.advance(70_000);
  assert.equal(state.ejected, false);
  await s.timers.advance(10_000);
  assert.ok(state.ejections < 2, `ejection count decays (${state.ejections})`);
});

test("an answer below 500 in between starts the count over", async () => {
  const s = setup();
  const state = s.datastore.endpoint(BAD)!;
  let n = 0;
  // The bad endpoint alternates: four 503s, one 200 — never five in a row.
  const answer = (e: string) => (e === BAD ? (n++ % 5 === 4 ? 200 : 503) : 200);
  for (let i = 0; i < 200; i++) await s.request(answer);
  assert.equal(state.ejected, false);
});

test("never more than maxEjectionPercent of the pool is ejected (at least one may be)", async () => {
  const two = ["10.0.0.1:8000", "10.0.0.2:8000"];
  const byDefault = setup();
  for (let i = 0; i < 100; i++) await byDefault.request(failing(...two));
  const ejected = (s: ReturnType<typeof setup>) => s.datastore.endpoints().filter((e) => e.ejected).length;
  assert.equal(ejected(byDefault), 1, "10% of 4 endpoints: the one Envoy always allows");

  const half = setup("half.yaml");
  for (let i = 0; i < 100; i++) await half.request(failing(...two));
  assert.equal(ejected(half), 2, "50% of 4 endpoints");
  const all = ENDPOINTS.map((h) => `${h}:8000`);
  for (let i = 0; i < 100; i++) await half.request(failing(...all));
  assert.equal(ejected(half), 2, "never above 50%, even when every endpoint fails");
});

test("a 429 is retried on another engine; retry.retriableStatusCodes: [] relays it", async () => {
  const limited = (e: string) => (e === BAD ? 429 : 200);
  const s = setup();
  let retried = 0;
  for (let i = 0; i < 40; i++) {
    const { tried, status } = await s.request(limited);
    assert.equal(status, 200);
    if (tried[0] === BAD) {
      retried++;
      assert.equal(tried.length, 2);
    }
  }
  assert.ok(retried > 0, "some first attempts hit the rate-limited engine");
  assert.equal(s.datastore.endpoint(BAD)!.ejected, false, "a 429 is not a failure of the server");

  const relay = setup("no429.yaml");
  let relayed = 0;
  for (let i = 0; i < 40; i++) {
    const { tried, status } = await relay.request(limited);
    if (tried[0] === BAD) {
      relayed++;
      assert.equal(status, 429);
      assert.equal(tried.length, 1);
    }
  }
  assert.ok(relayed > 0);
});

test("bad outlierDetection / noEndpointTTL settings are configuration errors with file and line", () => {
  assert.throws(
    () => loadConfig([files.path("bad.yaml")], { defaultPort: 8081 }),
    (e: Error) => {
      assert.match(e.message, /bad\.yaml:\d+: EndpointPickerConfig: outlierDetection\.consecutive5xx/);
      assert.match(e.message, /maxEjectionPercnt/);
      assert.match(e.message, /noEndpointTTL: a duration needs a unit/);
      return true;
    },
  );
});
