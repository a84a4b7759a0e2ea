/**
 * Finding 5 end to end: four `igw sim` replicas behind the gateway, one answering every request
 * 503 (`--failure-rate 1`). Idle because it fails fast, it used to win most first attempts; with
 * outlier detection it is ejected after five and the rest go to the healthy three.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { request } from "undici";
import { captureLogger } from "../helpers/capture-logger.ts";
import { type InProcessGateway, startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

const POOL = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: p}
spec:
  selector: {matchLabels: {app: sim}}
  targetPorts: [{number: 8000}]
---
# Critical: the pool has no queue, and the legacy admitter sheds Standard work when scraped
# metrics lag on a loaded machine; this test is about failing servers.
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec:
  modelName: m
  criticality: Critical
  poolRef: {group: inference.networking.k8s.io, kind: InferencePool, name: p}
`;

let healthy: SimProcess;
let failing: SimProcess;
let gateway: InProcessGateway;
const access = captureLogger();

before(async () => {
  [healthy, failing] = await Promise.all([
    startSimProcess(["--model", "m", "--replicas", "3", "--profile", "a10-7b", "--time-scale", "20"]),
    startSimProcess(["--model", "m", "--failure-rate", "1", "--failure-types", "server_error"]),
  ]);
  const addresses = [...healthy.urls, ...failing.urls].map((u) => new URL(u).host);
  gateway = await startInProcessGateway(
    POOL,
    addresses,
    { app: "sim" },
    {
      dashboard: false,
      accessLog: access.logger,
    },
  );
});

after(async () => {
  await gateway?.close();
  await Promise.all([healthy?.stop(), failing?.stop()]);
});

test("a replica answering 503 to everything gets few first attempts; clients see 200s", async () => {
  const { gw } = gateway;
  const total = 200;
  let next = 0;
  const statuses: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < total) {
        const i = next++;
        const res = await request(`${gw.url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", prompt: `question ${i}: why is the sky blue?`, max_tokens: 4 }),
        });
        await res.body.text();
        statuses.push(res.statusCode);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  assert.deepEqual([...new Set(statuses)], [200], "every request is answered by a healthy replica");
  const lines = access.records as unknown as { attempts: number }[];
  const retried = lines.filter((l) => l.attempts > 1).length;
  // Only the failing replica fails, so a retried request is one whose first attempt went there.
  const bad = new URL(failing.urls[0]!).host;
  const share = retried / lines.length;
  console.log(
    `# first attempts on the failing replica: ${retried}/${lines.length} (${(share * 100).toFixed(1)}%); ${(total / seconds).toFixed(0)} req/s`,
  );
  assert.ok(share < 0.1, `first attempts on the failing replica: ${(share * 100).toFixed(1)}% (want < 10%)`);
  const text = await (await request(`${gw.url}/metrics`)).body.text();
  assert.match(text, new RegExp(`inference_pool_endpoint_ejected\\{name="p",endpoint="${bad}"\\} 1`));
  assert.match(text, new RegExp(`inference_pool_endpoint_ejections_total\\{name="p",endpoint="${bad}"\\} 1`));
});
