/**
 * Flow control end to end: `igw serve` (real process) with a queueing pool in front of `igw sim`.
 * A concurrency detector with maxConcurrency 1 makes saturation exact (one request in flight =
 * full), so every assertion is about order, status and counts, never about timing.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const QUEUEING = "inference-epp-env.networking.x-k8s.io/experimental-use-queueing";

function model(name: string, criticality: string): string {
  return `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: ${name}}
spec:
  modelName: ${name}
  criticality: ${criticality}
  poolRef: {name: pool}
  targetModels: [{name: m}]
`;
}

function manifests(flowControl: string): string {
  return [
    `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: pool
  annotations: {${QUEUEING}: "true"}
spec:
  selector: {app: sim}
  targetPortNumber: 8000
  extensionRef: {name: epp}
`,
    model("critical", "Critical"),
    model("standard", "Standard"),
    model("sheddable", "Sheddable"),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: igw
  listeners: [{name: http, protocol: HTTP, port: 8081}]
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`,
    `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: epp}
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 1}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
${flowControl}`,
  ].join("---\n");
}

function endpoints(urls: readonly string[]): string {
  if (urls.length === 0) return "endpoints: []\n";
  return `endpoints:\n${urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: sim}\n`).join("")}`;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
}

async function complete(url: string, modelName: string, maxTokens: number): Promise<Answer> {
  const res = await request(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: modelName, prompt: "Plan a trip to Kyoto", max_tokens: maxTokens }),
  });
  const text = await res.body.text();
  const retry = res.headers["retry-after"];
  let code: string | undefined;
  if (res.statusCode !== 200) code = (JSON.parse(text) as { error: { code: string } }).error.code;
  return { status: res.statusCode, retryAfter: typeof retry === "string" ? retry : undefined, code };
}

/** Polls the gateway's /metrics until `pattern` matches (generous deadline). */
async function metricsMatch(url: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 60_000;
  let text = "";
  while (Date.now() < deadline) {
    text = await (await request(`${url}/metrics`)).body.text();
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(
    `metrics never matched ${pattern}:\n${text
      .split("\n")
      .filter((l) => l.includes("flow_control"))
      .join("\n")}`,
  );
}

const queued = (priority: number, n: number) =>
  new RegExp(
    `inference_extension_flow_control_queue_size\\{inference_pool="pool",priority="${priority}"\\} ${n}\\n`,
  );

describe("flow control in igw serve, in front of igw sim", () => {
  let sim: SimProcess;
  before(async () => {
    sim = await startSimProcess(["--model", "m", "--profile", "a10-7b"]);
  });
  after(async () => {
    await sim?.stop();
  });

  test("a saturated pool serves a late Critical request first, sheds Sheddable and refuses a full band with 429", async () => {
    const files = tempFiles({
      "pool.yaml": manifests(
        "  priorityBands:\n  - {priority: 1, usageLimit: 1}\n  - {priority: 0, maxRequests: 2}\n",
      ),
      "endpoints.yaml": endpoints(sim.urls),
    });
    let gw: GatewayProcess | undefined;
    try {
      gw = await startGatewayProcess([
        "-f",
        files.path("pool.yaml"),
        "--endpoints",
        files.path("endpoints.yaml"),
      ]);
      const url = gw.url;
      const order: string[] = [];
      const track = (name: string, p: Promise<Answer>) =>
        p.then((a) => {
          order.push(name);
          return a;
        });
      const s1 = track("s1", complete(url, "standard", 120)); // occupies the only slot
      await metricsMatch(
        url,
        /inference_extension_flow_control_pool_saturation\{inference_pool="pool"\} 1\n/,
      );
      const s2 = track("s2", complete(url, "standard", 3));
      const s3 = track("s3", complete(url, "standard", 3));
      await metricsMatch(url, queued(0, 2));

      const full = await complete(url, "standard", 3);
      assert.equal(full.status, 429);
      assert.equal(full.code, "queue_full");
      assert.ok(Number(full.retryAfter) >= 1, `Retry-After: ${full.retryAfter}`);

      const shed = await complete(url, "sheddable", 3);
      assert.equal(shed.status, 429);
      assert.equal(shed.code, "request_shed");
      assert.ok(Number(shed.retryAfter) >= 1, `Retry-After: ${shed.retryAfter}`);

      const c1 = track("c1", complete(url, "critical", 3));
      await metricsMatch(url, queued(1, 1));
      const answers = await Promise.all([s1, s2, s3, c1]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200],
      );
      assert.deepEqual(
        order,
        ["s1", "c1", "s2", "s3"],
        "Critical overtook the Standard requests queued before it",
      );
      await metricsMatch(
        url,
        /inference_extension_flow_control_request_queue_duration_seconds_count\{inference_pool="pool",priority="0",outcome="rejected_capacity"\} 1\n/,
      );
    } finally {
      await gw?.stop();
      files.cleanup();
    }
  });

  test("with no endpoints requests wait: past the TTL they get 503; an endpoint appearing drains the queue", async () => {
    const files = tempFiles({
      "pool.yaml": manifests("  defaultRequestTTL: 5s\n"),
      "endpoints.yaml": endpoints([]),
    });
    let gw: GatewayProcess | undefined;
    try {
      gw = await startGatewayProcess([
        "-f",
        files.path("pool.yaml"),
        "--endpoints",
        files.path("endpoints.yaml"),
        "--watch-interval",
        "200",
      ]);
      const expired = await complete(gw.url, "standard", 3);
      assert.equal(expired.status, 503);
      assert.equal(expired.code, "queue_timeout");

      const waiting = complete(gw.url, "critical", 3);
      await metricsMatch(gw.url, queued(1, 1));
      writeFileSync(files.path("endpoints.yaml"), endpoints(sim.urls));
      const served = await waiting;
      assert.equal(served.status, 200, "the queued request went to the endpoint that appeared");
      await metricsMatch(gw.url, queued(1, 0));
    } finally {
      await gw?.stop();
      files.cleanup();
    }
  });
});
