/**
 * The core's cost per request without any socket: one exchange from begin to end (parse, route,
 * resolve, admit, schedule, in-flight, response head, relay of one JSON body, metrics and hooks),
 * in a loop, for the seed's pool (queueing + scorer profile) and a plain pool. CPU time from
 * process.cpuUsage(), so the figure holds on a loaded machine better than wall time does.
 *
 *   npm run bench:core [-- --requests 200000]
 *
 * Run it under `node --cpu-prof` to see where each microsecond goes.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/file-source.ts";
import { Datastore } from "../src/datastore/datastore.ts";
import { GatewayMetrics } from "../src/observability/gateway-metrics.ts";
import { SchedulerMetrics } from "../src/observability/scheduler-metrics.ts";
import { Director } from "../src/requestcontrol/director.ts";

const { values: args } = parseArgs({ options: { requests: { type: "string", default: "200000" } } });
const N = Number(args.requests);

const BODY = Buffer.from(JSON.stringify({ model: "qwen", prompt: "Hello there", max_tokens: 1 }));
const HEADERS = {
  host: "127.0.0.1:8081",
  "content-type": "application/json",
  "content-length": String(BODY.length),
  "user-agent": "bench",
};
const UPSTREAM_HEADERS = {
  "content-type": "application/json",
  "content-length": "150",
  date: "x",
  server: "uvicorn",
};
const RESPONSE = Buffer.from(
  '{"id":"cmpl-1","object":"text_completion","created":1,"model":"qwen","choices":[{"index":0,"text":" world","finish_reason":"length"}],"usage":{"prompt_tokens":2,"total_tokens":3,"completion_tokens":1}}',
);

async function measure(label: string, manifests: string[]): Promise<void> {
  const datastore = new Datastore(loadConfig(manifests, { defaultPort: 8081 }));
  datastore.apply(
    datastore.config,
    Array.from({ length: 5 }, (_, i) => ({ host: `10.0.0.${i + 1}`, labels: { app: "qwen" } })),
  );
  // Fresh, idle scraped metrics (the scraper would write these every 50 ms).
  for (const e of datastore.endpoints()) e.metrics.updatedAt = Date.now() + 3_600_000;
  const metrics = new GatewayMetrics(datastore);
  const director = new Director(datastore, {
    flowControlMetrics: metrics.flowControl,
    schedulerMetrics: new SchedulerMetrics(metrics.registry),
  });
  metrics.subscribe(director.hooks);
  const entry = { kind: "listeners" as const, listenerKeys: datastore.config.listeners.map((l) => l.key) };
  const one = async (): Promise<void> => {
    const ex = director.begin({ method: "POST", url: "/v1/completions", headers: HEADERS }, entry);
    const d = await ex.decide(BODY);
    ex.attempt(d.endpoints[0]!);
    ex.responseStarted(200, UPSTREAM_HEADERS);
    ex.responseChunk(RESPONSE);
    ex.responseEnd();
    ex.end();
  };
  for (let i = 0; i < 20_000; i++) await one(); // warm-up
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < N; i++) await one();
  const cpu = process.cpuUsage(t0);
  const wall = performance.now() - w0;
  const us = (cpu.user + cpu.system) / N;
  console.log(
    `${label.padEnd(44)} ${us.toFixed(2)} µs CPU per request (${((wall * 1000) / N).toFixed(2)} µs wall)`,
  );
  director.close();
}

const seed = fileURLToPath(new URL("../examples/seed", import.meta.url));
const plain = fileURLToPath(new URL("overhead-manifests.yaml", import.meta.url));
console.log(`core path, ${N} requests each, Node ${process.version}`);
await measure("seed pool (queueing, scorer profile)", [seed]);
await measure("plain pool (legacy admitter, decision tree)", [plain]);
