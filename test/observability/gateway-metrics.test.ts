import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { GatewayMetrics } from "../../src/observability/gateway-metrics.ts";

test("inference_pool_endpoint_metrics_age_seconds: seconds since the last good scrape per endpoint, +Inf never", async () => {
  const datastore = new Datastore(loadConfig(["examples/seed"], { defaultPort: 8081 }));
  datastore.apply(datastore.config, [
    { host: "10.1.0.1", port: 8000, labels: { app: "qwen" } },
    { host: "10.1.0.2", port: 8000, labels: { app: "qwen" } },
  ]);
  datastore.endpoint("10.1.0.1:8000")!.metrics.updatedAt = Date.now() - 3000;
  const metrics = new GatewayMetrics(datastore);
  const text = await metrics.registry.metrics();
  const age = (endpoint: string) =>
    new RegExp(
      `^inference_pool_endpoint_metrics_age_seconds\\{name="qwen-pool",endpoint="${endpoint.replaceAll(".", "\\.")}"\\} (\\S+)$`,
      "m",
    ).exec(text)?.[1];
  const scraped = Number(age("10.1.0.1:8000"));
  assert.ok(scraped >= 3 && scraped < 10, `3 s old: ${scraped}`);
  assert.equal(age("10.1.0.2:8000"), "+Inf");
  // An endpoint that leaves the pool leaves the family.
  datastore.apply(datastore.config, [{ host: "10.1.0.1", port: 8000, labels: { app: "qwen" } }]);
  assert.equal(
    /10\.1\.0\.2/.test(
      (await metrics.registry.getSingleMetricAsString("inference_pool_endpoint_metrics_age_seconds")) ?? "",
    ),
    false,
  );
});
