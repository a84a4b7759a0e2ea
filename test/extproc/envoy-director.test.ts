// The ext_proc adapter bound to the real core: Envoy (deploy/envoy/envoy.yaml) → igw's ext_proc
// server → `director.begin(inbound, {kind: "pool"})` over the seed's manifests → igw sim replicas
// with the seed's LoRA adapters. The binding is the one line `igw epp` will use.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { extProcOptions } from "../../src/extproc/extproc-options.ts";
import { type ExtProcServer, startExtProcServer } from "../../src/extproc/extproc-server.ts";
import { type HealthServer, startHealthServer } from "../../src/extproc/health-server.ts";
import { MetricsCollector } from "../../src/modelserver/metrics-collector.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import { envoyTestConfig } from "../helpers/envoy-config.ts";
import { type EnvoyProcess, startEnvoy } from "../helpers/envoy-process.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

const POOL = "default/qwen-pool";

describe("Envoy + ext_proc + the real director (seed manifests, igw sim)", () => {
  let sim: SimProcess;
  let datastore: Datastore;
  let collector: MetricsCollector;
  let extProc: ExtProcServer;
  let health: HealthServer;
  let envoy: EnvoyProcess;

  before(async () => {
    sim = await startSimProcess([
      ...["--replicas", "2", "--model", "qwen", "--profile", "a10-7b"],
      ...[
        "--enable-lora",
        "--max-loras",
        "2",
        "--lora-modules",
        "travel-helper-v1=/m/v1",
        "travel-helper-v2=/m/v2",
      ],
    ]);
    datastore = new Datastore(loadConfig(["examples/seed/"], { defaultPort: 8081 }));
    datastore.apply(
      datastore.config,
      sim.urls.map((u) => {
        const { hostname, port } = new URL(u);
        return { host: hostname, port: Number(port), labels: { app: "qwen" } };
      }),
    );
    // Envoy retries, not the core: one attempt per decision (see src/extproc/stream-machine.ts).
    const director = new Director(datastore, { maxAttempts: 1, logger: silentLogger() });
    collector = new MetricsCollector(datastore, { onScraped: () => director.metricsRefreshed() });
    await collector.start();
    extProc = await startExtProcServer({
      host: "127.0.0.1",
      port: 0,
      begin: (inbound, subset) =>
        director.begin(inbound, { kind: "pool", poolKey: POOL, ...(subset ? { subset } : {}) }),
      options: extProcOptions(),
    });
    health = await startHealthServer("127.0.0.1", 0);
    envoy = await startEnvoy(envoyTestConfig({ extProcPort: extProc.port, healthPort: health.port }));
  });

  after(async () => {
    await envoy?.stop();
    await Promise.all([collector?.close(), extProc?.close(), health?.close(), sim?.stop()]);
  });

  const post = (body: unknown) =>
    fetch(`${envoy.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("routes the seed's two models; travel-helper reaches the engine as its LoRA adapter and comes back as itself", async () => {
    const servers = sim.urls.map((u) => new URL(u).host);
    for (const model of ["qwen", "travel-helper"]) {
      const res = await post({ model, prompt: "Plan three days in Kyoto", max_tokens: 3, ignore_eos: true });
      const text = await res.text();
      assert.equal(res.status, 200, `${model}: ${text}`);
      const json = JSON.parse(text) as { model: string; usage: { completion_tokens: number } };
      assert.equal(json.model, model);
      assert.equal(json.usage.completion_tokens, 3);
      assert.ok(servers.includes(res.headers.get("x-gateway-destination-endpoint-served") ?? ""));
      assert.ok(res.headers.get("x-request-id"));
    }
  });

  it("streams travel-helper through Envoy with every event rewritten back", async () => {
    const res = await post({
      model: "travel-helper",
      prompt: "Tell me",
      max_tokens: 5,
      ignore_eos: true,
      stream: true,
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = text.split("\n\n").filter((e) => e.startsWith("data: {"));
    assert.ok(events.length >= 5, text);
    assert.ok(events.every((e) => (JSON.parse(e.slice(6)) as { model: string }).model === "travel-helper"));
    assert.doesNotMatch(text, /travel-helper-v1/);
  });

  it("answers a bad request with the core's 400 JSON through Envoy", async () => {
    const res = await post({ prompt: "no model" });
    assert.equal(res.status, 400);
    const json = (await res.json()) as { error: { param: string; type: string } };
    assert.deepEqual([json.error.type, json.error.param], ["invalid_request_error", "model"]);
  });

  it("leaves no in-flight charge behind", () => {
    assert.deepEqual(
      datastore.endpoints().map((e) => e.inFlight.requests),
      sim.urls.map(() => 0),
    );
  });
});
