import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { PoolRecord } from "../../src/api/inference-pool.ts";
import type { ConfigSnapshot } from "../../src/datastore/config-snapshot.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { MetricsCollector } from "../../src/modelserver/metrics-collector.ts";

const METRICS = [
  'vllm:num_requests_running{model_name="m"} 3',
  'vllm:num_requests_waiting{model_name="m"} 2',
  'vllm:kv_cache_usage_perc{model_name="m"} 0.5',
  "",
].join("\n");

test("every scrape attempt calls onScraped, so admitters re-check with fresh numbers", async () => {
  const server = createServer((_req, res) => res.end(METRICS));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const pool: PoolRecord = {
    key: "default/p",
    name: "p",
    namespace: "default",
    apiVersion: "inference.networking.k8s.io/v1",
    selector: { app: "m" },
    targetPorts: [port],
    annotations: {},
    useQueueing: true,
    useSchedulerV2: false,
    enginePriority: false,
  };
  const config: ConfigSnapshot = {
    pools: new Map([[pool.key, pool]]),
    models: new Map(),
    objectives: new Map(),
    rewrites: new Map(),
    gateways: [],
    listeners: [],
    routes: [],
    policies: [],
    pickerConfigs: [],
    ignored: [],
    warnings: [],
  };
  const ds = new Datastore(config);
  let calls = 0;
  const collector = new MetricsCollector(ds, { intervalMs: 10, onScraped: () => calls++ });
  try {
    ds.apply(ds.config, [{ host: "127.0.0.1", port, labels: { app: "m" } }]);
    await collector.start();
    assert.ok(calls >= 1, "called after the first scrape");
    const [c] = ds.candidates(pool.key);
    assert.equal(c?.metrics.waiting, 2, "the record was written before the callback ran");
    const before = calls;
    while (calls < before + 2) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await collector.close();
    server.closeAllConnections();
    server.close();
  }
});
