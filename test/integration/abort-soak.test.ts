/**
 * Soak: 5,000 streaming requests through the proxy, each aborted by its client at a random moment
 * (before it is sent, while queued, before the engine's headers, mid-stream, or not at all). Every
 * gauge must be back at 0 afterwards and a Standard request must then be served at once: a leaked
 * in-flight count would leave the pool "saturated" with idle servers.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { type RunningGateway, startGateway } from "../../src/gateway/start-gateway.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { coreGauges } from "../adapters/conformance.ts";
import { type FakeUpstream, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec:
  selector: {app: soak}
  targetPortNumber: 8000
  extensionRef: {name: epp}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec: {modelName: chat, criticality: Standard, poolRef: {name: pool}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: epp}
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 8}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
`;

const TOTAL = 5000;
const CONCURRENCY = 48;

let ups: FakeUpstream[] = [];
let gw: RunningGateway;
let files: ReturnType<typeof tempFiles>;

before(async () => {
  // Each engine streams 6 events, a timer tick apart, so aborts land in every phase.
  ups = await Promise.all([0, 1].map(() => startFakeUpstream()));
  for (const up of ups)
    up.handler = async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let i = 0; i < 6 && !res.destroyed; i++) {
        res.write(`data: {"model":"chat","choices":[{"text":"t${i}"}]}\n\n`);
        await sleep(1);
      }
      if (!res.destroyed) res.end("data: [DONE]\n\n");
    };
  files = tempFiles({
    "gw.yaml": MANIFESTS,
    "eps.yaml": `endpoints:\n${ups.map((u) => `- address: ${u.address}\n  labels: {app: soak}\n`).join("")}`,
  });
  gw = await startGateway({
    manifests: [files.path("gw.yaml")],
    endpointsFile: files.path("eps.yaml"),
    port: 0,
    host: "127.0.0.1",
    watchIntervalMs: 0,
    checkIntervalMs: 0,
    logger: silentLogger(),
  });
});

after(async () => {
  await gw?.close();
  for (const up of ups) await up.close();
  files?.cleanup();
});

/** A seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`${TOTAL} streaming requests aborted at random moments leave every gauge at 0`, async () => {
  const random = prng(20261201);
  const agent = new Agent({ connections: CONCURRENCY });
  const body = JSON.stringify({ model: "chat", prompt: "a b c", stream: true });
  let next = 0;
  let completed = 0;
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      next++;
      const abort = new AbortController();
      const r = random();
      // 10% never aborted; the rest at 0–2 ms (before/while routing and dispatch), 2–10 ms
      // (queued, headers), or 10–25 ms (mid-stream).
      if (r >= 0.1) {
        const delay = r < 0.4 ? random() * 2 : r < 0.7 ? 2 + random() * 8 : 10 + random() * 15;
        if (delay < 0.2) queueMicrotask(() => abort.abort());
        else setTimeout(() => abort.abort(), delay);
      }
      try {
        const res = await request(`${gw.url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: abort.signal,
          dispatcher: agent,
        });
        await res.body.text();
        completed++;
      } catch {
        // aborted by design
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await agent.close();

  const gauges = async () =>
    coreGauges(gw.datastore.endpoints(), await (await request(`${gw.url}/metrics`)).body.text());
  const deadline = Date.now() + 5000;
  let g = await gauges();
  while ((g.inFlightRequests !== 0 || g.running !== 0 || g.queued !== 0) && Date.now() < deadline) {
    await sleep(50);
    g = await gauges();
  }
  assert.deepEqual(g, { inFlightRequests: 0, inFlightTokens: 0, queued: 0, running: 0 });
  assert.ok(completed > TOTAL * 0.05, `some requests completed (${completed})`);

  // And the pool serves at once: no phantom saturation.
  const t0 = performance.now();
  const res = await request(`${gw.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "chat", prompt: "after the storm" }),
  });
  await res.body.text();
  assert.equal(res.statusCode, 200);
  assert.ok(performance.now() - t0 < 1000, "served at once");
});
