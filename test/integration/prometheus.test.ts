/**
 * Our Prometheus rules and Grafana dashboard against a real Prometheus (Debian's, from
 * `npm run testenv -- ensure debian`): it scrapes `igw serve` (the seed's manifests plus one
 * EndpointPickerConfig and one InferenceObjective) and two `igw sim` replicas on loopback every
 * second. Under a short load that saturates the pool, sheds Sheddable requests and times Standard
 * ones out of the queue, every alert we can drive fires, and every PromQL expression of the
 * dashboard returns data. Expressions over metrics the gateway does not export yet (PENDING) must
 * return nothing, and their metrics must have no series: when one appears, move it out of PENDING.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { request } from "undici";
import { parse } from "yaml";
import { seedSimArgs } from "../../src/cli/start.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";
import { testTool } from "../helpers/testenv.ts";

const RULES = join(import.meta.dirname, "../../deploy/prometheus/igw-alerts.yaml");
const DASHBOARD = join(import.meta.dirname, "../../deploy/grafana/igw-dashboard.json");

/** Metrics the rules and the dashboard use that the gateway does not export yet (none now). */
const PENDING: string[] = [];

/** Alerts this test drives to pending/firing; the others depend on PENDING metrics. */
const DRIVEN_ALERTS = [
  "InferencePoolSaturated",
  "InferencePoolShedding",
  "ModelServerScrapeFailing",
  "InferencePoolEndpointMetricsStale",
  "InferencePoolEndpointEjected",
];

/** Added to the seed: saturation is exact (2 in flight per endpoint = full), a 1 s TTL, a Sheddable objective. */
const EXTRA = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
metadata: {name: prometheus-test}
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 2}
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
  defaultRequestTTL: 1s
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec:
  priority: -1
  poolRef: {name: qwen-pool}
`;

let sim: SimProcess;
let gw: GatewayProcess;
let prom: ChildProcess;
let promUrl: string;
let promLog = "";
const files = tempFiles({ "extra.yaml": EXTRA });

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, "close");
  return port;
}

/** One Prometheus HTTP API call (GET with query parameters); throws on an error answer. */
async function api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const res = await request(`${promUrl}${path}?${new URLSearchParams(params)}`);
  const body = (await res.body.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
  return body.data;
}

/** Instant query: the result vector. */
async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
    "/api/v1/query",
    { query: expr },
  );
  return data.result;
}

/** Polls until `check` is true (every 500 ms, at most `ms`). */
async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nprometheus: ${promLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  const args = seedSimArgs(2, "a10-7b").filter((a, i, all) => a !== "--port" && all[i - 1] !== "--port");
  sim = await startSimProcess([...args, "--max-num-seqs", "4"]);
  writeFileSync(
    files.path("endpoints.yaml"),
    `endpoints:\n${sim.urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: qwen}\n`).join("")}`,
  );
  gw = await startGatewayProcess([
    "-f",
    "examples/seed",
    "-f",
    files.path("extra.yaml"),
    "--endpoints",
    files.path("endpoints.yaml"),
    "--log-level",
    "warn",
  ]);
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const host = (u: string) => JSON.stringify(new URL(u).host);
  writeFileSync(
    files.path("prometheus.yml"),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [${JSON.stringify(RULES)}]
scrape_configs:
- job_name: igw
  static_configs: [{targets: [${host(gw.url)}]}]
- job_name: vllm
  static_configs: [{targets: [${sim.urls.map(host).join(", ")}]}]
`,
  );
  prom = spawn(
    testTool("prometheus"),
    [
      `--config.file=${files.path("prometheus.yml")}`,
      `--storage.tsdb.path=${files.path("tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  prom.stderr!.on("data", (c: Buffer) => {
    promLog = (promLog + c.toString()).slice(-4000);
  });
  await waitFor("Prometheus to be ready", 30_000, async () => {
    try {
      return (await request(`${promUrl}/-/ready`)).statusCode === 200;
    } catch {
      return false;
    }
  });
  await waitFor("every target to be up", 30_000, async () => (await query("up == 1")).length === 3);
});

after(async () => {
  if (prom && prom.exitCode === null) {
    const exited = once(prom, "exit");
    prom.kill("SIGTERM");
    await exited;
  }
  await gw?.stop();
  await sim?.stop();
  files.cleanup();
});

test("promtool accepts our rules and the example configuration", () => {
  const rules = spawnSync(testTool("promtool"), ["check", "rules", RULES], { encoding: "utf8" });
  assert.equal(rules.status, 0, rules.stdout + rules.stderr);
  assert.match(rules.stdout + rules.stderr, /SUCCESS: 5 rules found/);
  const config = join(import.meta.dirname, "../../deploy/prometheus/prometheus.example.yaml");
  const checked = spawnSync(testTool("promtool"), ["check", "config", config], { encoding: "utf8" });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
});

/** One client loop: sends `body` until `until`, waiting for each answer; counts statuses. */
async function loop(
  body: object,
  headers: Record<string, string>,
  until: number,
  statuses: Map<number, number>,
): Promise<void> {
  while (Date.now() < until) {
    const res = await request(`${gw.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    await res.body.text();
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode !== 200) await new Promise((r) => setTimeout(r, 100));
  }
}

/** The alerts Prometheus currently holds (pending or firing), by name. */
async function activeAlerts(): Promise<Map<string, string>> {
  const data = await api<{ alerts: { labels: { alertname: string }; state: string }[] }>("/api/v1/alerts");
  return new Map(data.alerts.map((a) => [a.labels.alertname, a.state]));
}

test("under load every driven alert fires and every dashboard expression returns data", async () => {
  const stream = (model: string, maxTokens: number) => ({
    model,
    prompt: "Plan three days in Kyoto with a budget",
    max_tokens: maxTokens,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const statuses = new Map<number, number>();
  const until = Date.now() + 15_000;
  const load = Promise.all([
    ...Array.from({ length: 6 }, () => loop(stream("travel-helper", 40), {}, until, statuses)),
    ...Array.from({ length: 2 }, () => loop(stream("qwen", 40), {}, until, statuses)),
    loop(
      { model: "qwen", prompt: "batch job", max_tokens: 8 },
      { "x-gateway-inference-objective": "batch" },
      until,
      statuses,
    ),
    loop({ model: "no-such-model", prompt: "x", max_tokens: 1 }, {}, until, statuses),
  ]);

  // Saturation and shedding: they hold only while the load runs.
  const seen = new Map<string, string>();
  await waitFor("the saturation and shedding alerts", 14_000, async () => {
    for (const [name, state] of await activeAlerts()) seen.set(name, state);
    return seen.has("InferencePoolSaturated") && seen.has("InferencePoolShedding");
  });
  await load;
  assert.ok((statuses.get(200) ?? 0) > 0, JSON.stringify([...statuses]));
  assert.ok((statuses.get(429) ?? 0) > 0, `Sheddable requests were shed: ${JSON.stringify([...statuses])}`);
  assert.ok(
    (statuses.get(503) ?? 0) > 0,
    `Standard requests timed out in the queue: ${JSON.stringify([...statuses])}`,
  );

  // With the pool idle again, Sheddable requests pass: the objective family gets latencies too.
  const objective = new Map<number, number>();
  await loop(stream("qwen", 8), { "x-gateway-inference-objective": "batch" }, Date.now() + 1500, objective);
  assert.ok((objective.get(200) ?? 0) > 0, JSON.stringify([...objective]));

  // A model server answers every request 503: outlier detection ejects it (clients are retried on
  // the other one).
  const fault = await request(`${sim.urls[1]}/admin/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ "failure-rate": 1 }),
  });
  await fault.body.text();
  assert.equal(fault.statusCode, 200);
  // Distinct prompts, so that prefix affinity does not keep every request on the healthy one.
  let probe = 0;
  await waitFor("the ejection alert", 20_000, async () => {
    for (let i = 0; i < 8; i++) {
      const res = await request(`${gw.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "qwen", prompt: `probe ${probe++} ${Math.random()}`, max_tokens: 1 }),
      });
      await res.body.text();
    }
    for (const [name, state] of await activeAlerts()) seen.set(name, state);
    return seen.has("InferencePoolEndpointEjected");
  });

  // A model server stops answering /metrics: Prometheus sees it down, and the gateway's last good
  // scrape of it ages past 5 s.
  await request(`${sim.urls[1]}/admin/kill`, { method: "POST" }).then(
    (r) => r.body.text(),
    () => "",
  );
  await waitFor("the scrape-failing and stale-metrics alerts", 20_000, async () => {
    const alerts = await activeAlerts();
    for (const [name, state] of alerts) seen.set(name, state);
    return alerts.has("ModelServerScrapeFailing") && alerts.has("InferencePoolEndpointMetricsStale");
  });
  for (const name of DRIVEN_ALERTS) assert.match(seen.get(name) ?? "", /^(pending|firing)$/, name);

  // Every rule is loaded and healthy, and an alert over a PENDING metric is one we cannot drive yet.
  const groups = await api<{ groups: { rules: { name: string; query: string; health: string }[] }[] }>(
    "/api/v1/rules",
  );
  const rules = groups.groups.flatMap((g) => g.rules);
  assert.equal(rules.length, 5);
  for (const r of rules) {
    assert.equal(r.health, "ok", `${r.name}: ${r.query}`);
    const pending = PENDING.some((m) => r.query.includes(m));
    assert.equal(
      DRIVEN_ALERTS.includes(r.name),
      !pending,
      `${r.name} is driven exactly when its metrics exist`,
    );
  }

  // Every PromQL expression of the dashboard (variables set to "all").
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
  );
  assert.ok(exprs.length >= 30, `${exprs.length} expressions`);
  const missing: string[] = [];
  for (const { panel, expr } of exprs) {
    const q = expr
      .replaceAll("$__rate_interval", "1m")
      .replaceAll("$pool", ".*")
      .replaceAll("$model", ".*")
      .replaceAll("$server_job", "vllm");
    const result = await query(q);
    if (PENDING.some((m) => expr.includes(m))) {
      assert.equal(result.length, 0, `${panel}: ${expr} has data: move its metric out of PENDING`);
      continue;
    }
    if (result.length === 0) missing.push(`${panel}: ${q}`);
  }
  assert.deepEqual(missing, [], "dashboard expressions without data");

  // The metrics PENDING names have no series at all (so the two checks above mean what they say).
  for (const m of PENDING) {
    const series = await api<unknown[]>("/api/v1/series", { "match[]": m });
    assert.deepEqual(series, [], `${m} now exists: move it out of PENDING and drive its alert`);
  }
  // The dashboard's variables find values.
  assert.ok(
    (await api<string[]>("/api/v1/label/name/values", { "match[]": "inference_pool_ready_pods" })).includes(
      "qwen-pool",
    ),
  );
  const models = await api<string[]>("/api/v1/label/model_name/values", {
    "match[]": '{__name__=~"inference_(model|objective)_request_total"}',
  });
  for (const m of ["qwen", "travel-helper"]) assert.ok(models.includes(m), `${m} in ${models}`);
});

test("the dashboard's rules file and JSON are what the docs and Grafana expect", () => {
  const rules = parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string }[] }[] };
  const names = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
  assert.deepEqual(names.sort(), [...DRIVEN_ALERTS].sort());
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    uid: string;
    panels: { id: number; type: string; gridPos: { x: number; w: number }; datasource?: { uid: string } }[];
  };
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  const variable = ["$", "{datasource}"].join(""); // Grafana's syntax, not a template literal
  for (const p of dashboard.panels) {
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `panel ${p.id} fits the 24-column grid`);
    if (p.type !== "row")
      assert.equal(p.datasource?.uid, variable, `panel ${p.id} uses the datasource variable`);
  }
});
