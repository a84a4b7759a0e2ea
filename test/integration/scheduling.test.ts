/**
 * Endpoint picking end to end: the gateway (in-process, loopback port 0) in front of `igw sim`
 * processes, with the scorer profile (`experimental-use-scheduler-v2: "true"`). Which replica served
 * a request is read from `x-gateway-destination-endpoint-served`.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { request } from "undici";
import type { RunningGateway } from "../../src/gateway/start-gateway.ts";
import { DECISION_HEADER } from "../../src/requestcontrol/wire-headers.ts";
import type { DecisionExplanation } from "../../src/scheduling/types.ts";
import { type FakeUpstream, IDLE_VLLM_METRICS, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: pool
  annotations:
    inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"
spec:
  selector: {app: sim}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec: {modelName: m, criticality: Critical, poolRef: {name: pool}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: a1}
spec: {modelName: a1, criticality: Critical, poolRef: {name: pool}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

const hostOf = (url: string) => new URL(url).host;

/** `n` words, distinct per seed (the simulator counts one token per word). */
function words(n: number, seed: string): string {
  return Array.from({ length: n }, (_, i) => `${seed}${i}`).join(" ");
}

async function gatewayFor(
  addresses: readonly string[],
  manifests = MANIFESTS,
): Promise<{ gw: RunningGateway; cleanup: () => Promise<void> }> {
  const { gw, close } = await startInProcessGateway(
    manifests,
    addresses,
    { app: "sim" },
    { explainDecisions: true },
  );
  await gw.checkServedModels();
  return { gw, cleanup: close };
}

/** One completion through `base` (gateway or a replica); returns who served it and the decision. */
async function complete(
  base: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  servedBy: string;
  decision: DecisionExplanation | undefined;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}> {
  const res = await request(`${base}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.body.text();
  const decision = res.headers[DECISION_HEADER];
  return {
    status: res.statusCode,
    servedBy: String(res.headers["x-gateway-destination-endpoint-served"] ?? ""),
    decision: typeof decision === "string" ? (JSON.parse(decision) as DecisionExplanation) : undefined,
    text,
    headers: res.headers,
  };
}

/** Starts `count` long generations directly on one replica (bypassing the gateway). */
function keepBusy(url: string, count: number, model: string, promptWords: number): AbortController {
  const stop = new AbortController();
  for (let i = 0; i < count; i++) {
    complete(
      url,
      { model, prompt: words(promptWords, `busy${i}x`), max_tokens: 2000, ignore_eos: true },
      stop.signal,
    ).catch(() => undefined);
  }
  return stop;
}

/** Waits until `probe` is true (polling), or fails after `ms`. */
async function until(probe: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** True once the gateway's scraped waiting queue of `endpointId` is at least `n`. */
function waitingAtLeast(gw: RunningGateway, endpointId: string, n: number): () => Promise<boolean> {
  return async () => (gw.datastore.endpoint(endpointId)?.metrics.waiting ?? 0) >= n;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("a replica made busy receives less new traffic", async () => {
  const sims: SimProcess = await startSimProcess([
    "--replicas",
    "3",
    "--model",
    "m",
    "--profile",
    "a10-7b",
    "--max-num-seqs",
    "2",
  ]);
  cleanups.push(() => sims.stop());
  const { gw, cleanup } = await gatewayFor(sims.urls.map(hostOf));
  cleanups.push(cleanup);
  const busy = hostOf(sims.urls[0]!);
  const load = keepBusy(sims.urls[0]!, 8, "m", 50);
  try {
    await until(waitingAtLeast(gw, busy, 4), 30_000, "the busy replica to queue");
    const served = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const r = await complete(gw.url, { model: "m", prompt: words(8, `q${i}w`), max_tokens: 1 });
      assert.equal(r.status, 200, r.text);
      served.set(r.servedBy, (served.get(r.servedBy) ?? 0) + 1);
      if (r.servedBy !== busy) {
        // The explanation says why: the chosen replica has the lowest expected TTFT.
        assert.ok(r.decision !== undefined);
        assert.equal(r.decision.chosen.scores["expected-ttft-scorer"], 1);
        assert.ok(r.decision.chosen.total > (r.decision.runnerUp?.total ?? 0) - 1e-9);
      }
    }
    assert.ok(
      (served.get(busy) ?? 0) <= 1,
      `busy replica got ${served.get(busy)} of 12: ${JSON.stringify([...served])}`,
    );
    assert.equal([...served.keys()].filter((k) => k !== busy).length, 2, "both idle replicas got traffic");
  } finally {
    load.abort();
  }
});

test("a repeated long prefix lands on the replica that holds it while load allows", async () => {
  // A small KV cache (200 blocks × 16 tokens) so direct load can fill it.
  const sims = await startSimProcess([
    "--replicas",
    "3",
    "--model",
    "m",
    "--profile",
    "a10-7b",
    "--max-num-seqs",
    "2",
    "--num-gpu-blocks-override",
    "200",
    "--max-model-len",
    "3000",
  ]);
  cleanups.push(() => sims.stop());
  const { gw, cleanup } = await gatewayFor(sims.urls.map(hostOf));
  cleanups.push(cleanup);
  const system = words(600, "sys"); // ~4,000 characters shared
  const ask = (i: number) =>
    complete(gw.url, { model: "m", prompt: `${system} question ${i}`, max_tokens: 1 });

  const first = await ask(0);
  assert.equal(first.status, 200, first.text);
  const holder = first.servedBy;
  for (let i = 1; i < 8; i++) {
    const r = await ask(i);
    assert.equal(r.servedBy, holder, `request ${i} left the replica holding the prefix`);
    assert.ok(r.decision!.chosen.scores["prefix-cache-scorer"]! > 0.9);
  }
  // Now the holder is full: a queue and a KV cache near 100%. The prefix no longer outweighs load.
  const holderUrl = sims.urls.find((u) => hostOf(u) === holder)!;
  const load = keepBusy(holderUrl, 6, "m", 800);
  try {
    await until(waitingAtLeast(gw, holder, 3), 30_000, "the holder to queue");
    await until(
      async () => (gw.datastore.endpoint(holder)?.metrics.kvCacheUsage ?? 0) > 0.5,
      30_000,
      "the holder's KV cache to fill",
    );
    const moved = await ask(100);
    assert.notEqual(moved.servedBy, holder, JSON.stringify(moved.decision));
    assert.equal(moved.decision!.chosen.scores["prefix-cache-scorer"], 0, "it went where the prefix is not");
  } finally {
    load.abort();
  }
});

test("adapter requests go where the adapter is loaded while slots allow", async () => {
  const sims = await startSimProcess([
    "--replicas",
    "2",
    "--model",
    "m",
    "--profile",
    "a10-7b",
    "--enable-lora",
    "--max-loras",
    "1",
    "--lora-modules",
    "a1=/adapters/a1",
    "a2=/adapters/a2",
  ]);
  cleanups.push(() => sims.stop());
  const { gw, cleanup } = await gatewayFor(sims.urls.map(hostOf));
  cleanups.push(cleanup);
  const [withA1, withA2] = sims.urls.map(hostOf) as [string, string];
  // Replica 0 runs a1, replica 1 runs a2 (one adapter slot each), both equally busy.
  const load1 = keepBusy(sims.urls[0]!, 1, "a1", 10);
  const load2 = keepBusy(sims.urls[1]!, 1, "a2", 10);
  try {
    await until(
      async () =>
        gw.datastore.endpoint(withA1)?.metrics.activeAdapters.has("a1") === true &&
        gw.datastore.endpoint(withA2)?.metrics.activeAdapters.has("a2") === true,
      30_000,
      "both adapters to run",
    );
    for (let i = 0; i < 6; i++) {
      // Let a scrape see the previous request gone (a just-arrived request shows as waiting).
      await until(async () => gw.datastore.endpoint(withA1)?.metrics.waiting === 0, 30_000, "an empty queue");
      const r = await complete(gw.url, { model: "a1", prompt: words(5, `lora${i}x`), max_tokens: 1 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.servedBy, withA1, JSON.stringify(r.decision));
      assert.equal(r.decision!.profile, "default-lora");
      assert.equal(r.decision!.chosen.scores["lora-affinity-scorer"], 1);
      assert.equal(r.decision!.runnerUp?.scores["lora-affinity-scorer"], 0);
    }
  } finally {
    load1.abort();
    load2.abort();
  }
});

test("a replica whose metrics go stale is avoided; it is used again when they recover", async () => {
  const sims = await startSimProcess(["--replicas", "1", "--model", "m", "--profile", "instant"]);
  cleanups.push(() => sims.stop());
  const fake: FakeUpstream = await startFakeUpstream();
  cleanups.push(() => fake.close());
  fake.served = [{ id: "m" }];
  const { gw, cleanup } = await gatewayFor([hostOf(sims.urls[0]!), fake.address]);
  cleanups.push(cleanup);
  const fakeId = fake.address;
  const servedBy = async (n: number) => {
    const out = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await complete(gw.url, {
        model: "m",
        prompt: words(4, `s${i}${Math.random()}x`),
        max_tokens: 1,
      });
      assert.equal(r.status, 200, r.text);
      out.set(r.servedBy, (out.get(r.servedBy) ?? 0) + 1);
    }
    return out;
  };
  // Both fresh and idle: ties are broken at random, so both serve.
  await until(async () => ((await servedBy(4)).get(fakeId) ?? 0) > 0, 30_000, "the fake to serve");
  // The fake's /metrics breaks: after the staleness threshold (2 s) it is avoided.
  fake.metricsPage = "not a metrics page";
  await until(
    async () => gw.datastore.candidates("default/pool").find((c) => c.endpoint.id === fakeId)?.stale === true,
    30_000,
    "the fake to go stale",
  );
  const whileStale = await servedBy(12);
  assert.equal(whileStale.get(fakeId) ?? 0, 0, JSON.stringify([...whileStale]));
  // Recovery: it serves again.
  fake.metricsPage = IDLE_VLLM_METRICS;
  await until(async () => ((await servedBy(4)).get(fakeId) ?? 0) > 0, 30_000, "the fake to serve again");
});

test("the gateway's /metrics has the scheduler families", async () => {
  const fake = await startFakeUpstream();
  cleanups.push(() => fake.close());
  fake.served = [{ id: "m" }];
  const { gw, cleanup } = await gatewayFor([fake.address]);
  cleanups.push(cleanup);
  const r = await complete(gw.url, { model: "m", prompt: words(40, "p"), max_tokens: 1 });
  assert.equal(r.status, 200);
  const text = await (await request(`${gw.url}/metrics`)).body.text();
  assert.match(text, /inference_extension_scheduler_e2e_duration_seconds_count 1/);
  assert.match(text, /inference_extension_scheduler_attempts_total\{status="success"\} 1/);
  assert.match(
    text,
    /inference_extension_plugin_duration_seconds_count\{extension_point="scorer",plugin_type="prefix-cache-scorer",plugin_name="prefix-cache-scorer"\} 1/,
  );
  assert.match(text, /inference_extension_prefix_indexer_size\{inference_pool="default\/pool"\} [1-9]/);
  assert.match(text, /inference_extension_prefix_indexer_hit_ratio\{inference_pool="default\/pool"\} 0/);
  assert.match(text, /inference_pool_average_queue_size\{name="pool"\} 0/);
});

test("an EndpointPickerConfig with session affinity: the response's token brings the next turn back", async () => {
  const fakes = [await startFakeUpstream(), await startFakeUpstream(), await startFakeUpstream()];
  for (const f of fakes) {
    f.served = [{ id: "m" }];
    cleanups.push(() => f.close());
  }
  const picker = `---
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: session-affinity-scorer
- type: queue-scorer
schedulingProfiles:
- name: sticky
  plugins:
  - {pluginRef: session-affinity-scorer, weight: 10}
  - {pluginRef: queue-scorer, weight: 1}
`;
  const { gw, cleanup } = await gatewayFor(
    fakes.map((f) => f.address),
    MANIFESTS + picker,
  );
  cleanups.push(cleanup);
  const first = await complete(gw.url, { model: "m", prompt: "turn 0", max_tokens: 1 });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.decision!.profile, "sticky");
  const token = first.headers["x-session-token"];
  assert.equal(typeof token, "string");
  for (let i = 1; i < 10; i++) {
    const r = await complete(gw.url, { model: "m", prompt: `turn ${i}`, max_tokens: 1 }, undefined, {
      "x-session-token": token as string,
    });
    assert.equal(r.servedBy, first.servedBy, `turn ${i}`);
  }
  // Without the token, the three idle endpoints share the traffic.
  const seen = new Set<string>();
  for (let i = 0; i < 15; i++)
    seen.add((await complete(gw.url, { model: "m", prompt: `x${i}`, max_tokens: 1 })).servedBy);
  assert.ok(seen.size > 1, [...seen].join(","));
});

test("legacy decision tree: a non-critical request to a pool with no capacity is refused with 429", async () => {
  const fake = await startFakeUpstream();
  cleanups.push(() => fake.close());
  fake.served = [{ id: "m" }];
  // Queue of 10 (> 5): no capacity for non-critical work, still room for Critical (< 128).
  fake.metricsPage =
    "vllm:num_requests_waiting 10\nvllm:num_requests_running 4\nvllm:kv_cache_usage_perc 0.3\n";
  const legacy = MANIFESTS.replace(
    '  annotations:\n    inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"\n',
    "",
  ).replace("spec: {modelName: a1, criticality: Critical,", "spec: {modelName: a1, criticality: Standard,");
  assert.ok(!legacy.includes("scheduler-v2") && legacy.includes("criticality: Standard"));
  const { gw, cleanup } = await gatewayFor([fake.address], legacy);
  cleanups.push(cleanup);
  const critical = await complete(gw.url, { model: "m", prompt: "hi", max_tokens: 1 });
  assert.equal(critical.status, 200, critical.text);
  assert.equal(critical.decision!.profile, "legacy-decision-tree");
  const standard = await complete(gw.url, { model: "a1", prompt: "hi", max_tokens: 1 });
  assert.equal(standard.status, 429, standard.text);
});
