/**
 * The issue's "done when" for `igw epp`, all real processes on loopback: Envoy started from
 * deploy/envoy/envoy.yaml (the override-host cluster listing the servers, its retry policy,
 * failure_mode_allow false), `igw epp` as a child process, `igw sim` replicas as model servers.
 *
 * The seed stack: the seed's manifests, two single-replica sims serving qwen and the seed's LoRA
 * adapters. The saturation stack: one sim behind a pool with a concurrency detector of 1, so one
 * running request saturates it, and the llm-d header name.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { coreGauges } from "../adapters/conformance.ts";
import { envoyTestConfig } from "../helpers/envoy-config.ts";
import { type EnvoyProcess, startEnvoy } from "../helpers/envoy-process.ts";
import { type EppProcess, startEppProcess } from "../helpers/epp-process.ts";
import { eventually } from "../helpers/eventually.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

type TempFiles = ReturnType<typeof tempFiles>;

/** 20 ms per engine step, so max_tokens sets how long a request runs. */
const SIM_SPEED = ["--step-base-ms", "20", "--step-jitter", "0"];
const SEED_SIM = [
  ...["--model", "qwen", "--enable-lora", "--max-loras", "2"],
  ...["--lora-modules", "travel-helper-v1=/m/v1", "travel-helper-v2=/m/v2"],
  ...SIM_SPEED,
];

function endpointsFile(urls: readonly string[], app: string): string {
  return `endpoints:\n${urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: ${app}}\n`).join("")}`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** ms from sending to the end of the body. */
  readonly ms: number;
}

async function post(base: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "Plan three days in Kyoto", ignore_eos: true, ...body }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: performance.now() - t0 };
}

/** Requests the sim's first replica is generating for (`vllm:num_requests_running`). */
async function running(sim: SimProcess): Promise<number> {
  const text = await (await fetch(`${sim.urls[0]}/metrics`)).text();
  return Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

/** Resolves once the sim runs a request. */
function generating(sim: SimProcess): Promise<void> {
  return eventually(async () => assert.ok((await running(sim)) > 0, "the sim runs a request"), 10_000);
}

/** Requests waiting in the picker's flow control, from its /metrics. */
async function queued(epp: EppProcess): Promise<number> {
  return coreGauges([], await (await fetch(`${epp.metricsUrl}/metrics`)).text()).queued;
}

describe("Envoy + igw epp + igw sim: the seed", () => {
  let simA: SimProcess;
  let simB: SimProcess;
  let files: TempFiles;
  let epp: EppProcess;
  let envoy: EnvoyProcess;

  before(async () => {
    [simA, simB] = await Promise.all([startSimProcess(SEED_SIM), startSimProcess(SEED_SIM)]);
    const urls = [simA.urls[0]!, simB.urls[0]!];
    files = tempFiles({ "endpoints.yaml": endpointsFile(urls, "qwen") });
    epp = await startEppProcess(["-f", "examples/seed/", "--endpoints", files.path("endpoints.yaml")]);
    envoy = await startEnvoy(
      envoyTestConfig({
        extProcPort: epp.grpcPort,
        healthPort: epp.healthPort,
        poolEndpoints: urls.map((u) => new URL(u).host),
      }),
    );
  });

  after(async () => {
    await envoy?.stop();
    await epp?.stop();
    await Promise.all([simA?.stop(), simB?.stop()]);
    files?.cleanup();
  });

  it("routes the seed's two models; travel-helper reaches the engine as its LoRA adapter and comes back as itself", async () => {
    const servers = [simA, simB].map((s) => new URL(s.urls[0]!).host);
    for (const model of ["qwen", "travel-helper"]) {
      const r = await post(envoy.url, { model, max_tokens: 3 });
      assert.equal(r.status, 200, `${model}: ${r.text}`);
      const json = JSON.parse(r.text) as { model: string; usage: { completion_tokens: number } };
      assert.equal(json.model, model);
      assert.equal(json.usage.completion_tokens, 3);
      assert.ok(servers.includes(r.headers.get("x-gateway-destination-endpoint-served") ?? ""), r.text);
    }
    // The engine does not know "travel-helper": only the rewrite to travel-helper-v1 lets it serve.
    const direct = await post(simA.urls[0]!, { model: "travel-helper", max_tokens: 1 });
    assert.equal(direct.status, 404, direct.text);
  });

  it("streams travel-helper through Envoy with every event rewritten back and usage last", async () => {
    const r = await post(envoy.url, {
      model: "travel-helper",
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = r.text.split("\n\n").filter((e) => e.startsWith("data: {"));
    assert.ok(events.length >= 6, r.text);
    for (const e of events)
      assert.equal((JSON.parse(e.slice(6)) as { model: string }).model, "travel-helper");
    assert.doesNotMatch(r.text, /travel-helper-v1/);
    assert.match(events.at(-1)!, /"completion_tokens":6/);
    assert.match(r.text, /data: \[DONE\]\n\n$/);
  });

  it("a model server killed mid-load: Envoy retries the fallback list, no request is lost before its first byte", async () => {
    // Distinct prompts (no prefix affinity), until some are generating on simB.
    const load: Promise<Answer>[] = [];
    for (let i = 0; i < 40 && (await running(simB)) === 0; i++) {
      load.push(post(envoy.url, { model: "qwen", prompt: `request ${i}: ${Math.random()}`, max_tokens: 60 }));
      await sleep(30);
    }
    await generating(simB);
    simB.child.kill("SIGKILL");
    const later = Array.from({ length: 6 }, (_, i) =>
      post(envoy.url, { model: "qwen", prompt: `later ${i}`, max_tokens: 2 }),
    );
    const answers = await Promise.all([...load, ...later]);
    const survivor = new URL(simA.urls[0]!).host;
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers.get("x-gateway-destination-endpoint-served"), survivor);
    }
  });

  it("igw epp killed: with failure_mode_allow false Envoy answers 5xx at once; a restarted epp serves again", async () => {
    await epp.kill();
    const r = await post(envoy.url, { model: "qwen", max_tokens: 2 });
    assert.ok(r.status >= 500 && r.status < 600, `${r.status} ${r.text}`);
    assert.ok(r.ms < 1500, `answered in ${Math.round(r.ms)} ms`);
    // Back on the same ports: Envoy reconnects (and its health checks pass again) by itself.
    epp = await startEppProcess([
      ...["-f", "examples/seed/", "--endpoints", files.path("endpoints.yaml")],
      ...["--grpc-port", String(epp.grpcPort), "--grpc-health-port", String(epp.healthPort)],
    ]);
    await eventually(async () => {
      const again = await post(envoy.url, { model: "qwen", max_tokens: 2 });
      assert.equal(again.status, 200, again.text);
    }, 15_000);
  });
});

const HEADER = "x-llm-d-gateway-destination-endpoint";
/** Queue TTL: longer than any wait below. */
const TTL_S = 30;
const SATURATION_MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: sat}
spec: {selector: {app: sat}, targetPortNumber: 8000, extensionRef: {name: epp}}
${["Critical", "Standard", "Sheddable"]
  .map(
    (c) => `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: ${c.toLowerCase()}}
spec: {modelName: ${c.toLowerCase()}, criticality: ${c}, poolRef: {name: sat}, targetModels: [{name: qwen}]}
`,
  )
  .join("")}---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: epp}
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 1}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
  defaultRequestTTL: ${TTL_S}s
`;

describe("Envoy + igw epp + igw sim: a saturated pool (llm-d header name)", () => {
  let sim: SimProcess;
  let files: TempFiles;
  let epp: EppProcess;
  let envoy: EnvoyProcess;

  before(async () => {
    sim = await startSimProcess(["--model", "qwen", ...SIM_SPEED]);
    files = tempFiles({
      "pool.yaml": SATURATION_MANIFESTS,
      "endpoints.yaml": endpointsFile(sim.urls, "sat"),
    });
    epp = await startEppProcess([
      ...["-f", files.path("pool.yaml"), "--endpoints", files.path("endpoints.yaml")],
      ...["--destination-endpoint-header", HEADER],
    ]);
    envoy = await startEnvoy(
      envoyTestConfig({
        extProcPort: epp.grpcPort,
        healthPort: epp.healthPort,
        poolEndpoints: [new URL(sim.urls[0]!).host],
        destinationHeader: HEADER,
      }),
    );
  });

  after(async () => {
    await envoy?.stop();
    await epp?.stop();
    await sim?.stop();
    files?.cleanup();
  });

  it("Critical goes ahead of queued Standard requests; Sheddable is answered 429 with Retry-After", async () => {
    const busy = post(envoy.url, { model: "standard", max_tokens: 40 });
    await generating(sim);
    const done: string[] = [];
    const track = (name: string, p: Promise<Answer>) =>
      p.then((a) => {
        done.push(name);
        return a;
      });
    const standards = [1, 2, 3].map((i) =>
      track(`standard${i}`, post(envoy.url, { model: "standard", max_tokens: 3 })),
    );
    await eventually(async () => assert.equal(await queued(epp), 3), 10_000);
    // Critical may use the headroom above "full" (usage limit 1.25): it passes the queued Standards.
    const critical = await track("critical", post(envoy.url, { model: "critical", max_tokens: 3 }));
    assert.equal(critical.status, 200, critical.text);
    assert.equal(await queued(epp), 3, "the Standard requests still wait");

    const shed = await post(envoy.url, { model: "sheddable", max_tokens: 3 });
    assert.equal(shed.status, 429, shed.text);
    assert.ok(Number(shed.headers.get("retry-after")) >= 1, "Retry-After reaches the client");
    assert.equal((JSON.parse(shed.text) as { error: { code: string } }).error.code, "request_shed");

    for (const a of [await busy, ...(await Promise.all(standards))]) assert.equal(a.status, 200, a.text);
    assert.equal(done[0], "critical", `completion order: ${done.join(", ")}`);
  });

  it("a queue wait longer than Envoy's default ext_proc message timeout (200 ms) is served", async () => {
    const busy = post(envoy.url, { model: "standard", max_tokens: 100 }); // ~2 s
    await generating(sim);
    const waited = await post(envoy.url, { model: "standard", max_tokens: 2 });
    assert.equal(waited.status, 200, waited.text);
    assert.ok(waited.ms > 1000, `waited ${Math.round(waited.ms)} ms in the queue`);
    assert.equal((await busy).status, 200);
  });

  it("a client that leaves while queued frees its place at once", async () => {
    const busy = post(envoy.url, { model: "standard", max_tokens: 60 });
    await generating(sim);
    const abort = new AbortController();
    const gone = post(envoy.url, { model: "standard", max_tokens: 2 }, abort.signal).catch((e: Error) => e);
    await eventually(async () => assert.equal(await queued(epp), 1), 10_000);
    abort.abort();
    assert.ok((await gone) instanceof Error);
    await eventually(async () => assert.equal(await queued(epp), 0), 2000);
    const metrics = await (await fetch(`${epp.metricsUrl}/metrics`)).text();
    assert.match(
      metrics,
      /^inference_extension_flow_control_request_queue_duration_seconds_count\{[^}]*outcome="evicted_client_gone"[^}]*\} 1$/m,
    );
    assert.equal((await busy).status, 200);
    const next = await post(envoy.url, { model: "standard", max_tokens: 2 });
    assert.equal(next.status, 200, next.text);
  });
});
