import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { SchedulerMetrics } from "../../src/observability/scheduler-metrics.ts";
import type {
  EndpointRemovedListener,
  MetricsSource,
  PluginMetrics,
} from "../../src/plugins/capabilities.ts";
import type { Plugin } from "../../src/plugins/registry.ts";

/** Any plugin with the capabilities, not a built-in class. */
class CountingPlugin implements Plugin, MetricsSource, EndpointRemovedListener {
  readonly type = "counting";
  readonly name: string;
  readonly removed: string[] = [];
  readonly size: number;
  constructor(name: string, size: number) {
    this.name = name;
    this.size = size;
  }
  pluginMetrics(): PluginMetrics {
    return { prefixIndex: { indexSize: this.size, hitBlocks: 1, lookupBlocks: 4 } };
  }
  endpointRemoved(endpointId: string): void {
    this.removed.push(endpointId);
  }
}

test("any plugin that is a metrics source or endpoint-removed listener is found by capability", async () => {
  const registry = new Registry();
  const metrics = new SchedulerMetrics(registry);
  const a = new CountingPlugin("a", 3);
  const b = new CountingPlugin("b", 5);
  metrics.setPoolPlugins("default/p", [a, b, { type: "plain", name: "plain" }]);
  metrics.setPoolPlugins("default/q", [{ type: "plain", name: "plain" }]);
  const text = await registry.metrics();
  assert.match(text, /inference_extension_prefix_indexer_size\{inference_pool="default\/p"\} 8/);
  assert.match(text, /inference_extension_prefix_indexer_hit_ratio\{inference_pool="default\/p"\} 0\.25/);
  assert.doesNotMatch(text, /inference_pool="default\/q"/, "a pool without a prefix index has no series");
  metrics.removeEndpoint("10.0.0.1:8000");
  assert.deepEqual([a.removed, b.removed], [["10.0.0.1:8000"], ["10.0.0.1:8000"]]);
  metrics.setPoolPlugins("default/p", []);
  metrics.removeEndpoint("10.0.0.2:8000");
  assert.deepEqual(a.removed, ["10.0.0.1:8000"], "a rebuilt pool's old plugins are no longer told");
});
