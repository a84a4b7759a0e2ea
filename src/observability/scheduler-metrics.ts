/**
 * The scheduler's families on the gateway's /metrics, named as the Inference Extension's EPP names
 * them: decision latency, per-plugin latency, attempts, and the prefix indexer's size and hit ratio.
 */
import { Gauge, type Registry } from "prom-client";
import {
  type EndpointRemovedListener,
  isEndpointRemovedListener,
  isMetricsSource,
  type MetricsSource,
  type PrefixIndexMetrics,
} from "../plugins/capabilities.ts";
import type { Plugin } from "../plugins/registry.ts";
import type { PluginObserver } from "../scheduling/profile-runner.ts";
import { CounterFamily, type CounterSeries, HistogramFamily, type HistogramSeries } from "./hot-metrics.ts";

const LATENCY_BUCKETS = [
  0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
];

export class SchedulerMetrics {
  readonly #e2e: HistogramSeries;
  readonly #succeeded: CounterSeries;
  readonly #failed: CounterSeries;
  readonly #plugin: HistogramFamily<"extension_point" | "plugin_type" | "plugin_name">;
  /** Bound plugin series by plugin instance and extension point. */
  readonly #pluginSeries = new WeakMap<Plugin, Map<string, HistogramSeries>>();
  /** Each pool's live plugins that report metrics or hold endpoint state (replaced on rebuild). */
  readonly #pools = new Map<string, { sources: MetricsSource[]; listeners: EndpointRemovedListener[] }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#e2e = new HistogramFamily(
      "inference_extension_scheduler_e2e_duration_seconds",
      "Time of one scheduling decision (filters, scorers, picker), seconds.",
      [],
      LATENCY_BUCKETS,
      registry,
    ).series({});
    const attempts = new CounterFamily(
      "inference_extension_scheduler_attempts_total",
      "Scheduling decisions by outcome (success: an endpoint was picked; failure: none).",
      ["status"],
      registry,
    );
    this.#succeeded = attempts.series({ status: "success" });
    this.#failed = attempts.series({ status: "failure" });
    this.#plugin = new HistogramFamily(
      "inference_extension_plugin_duration_seconds",
      "Time of one plugin call, seconds.",
      ["extension_point", "plugin_type", "plugin_name"],
      LATENCY_BUCKETS,
      registry,
    );
    const prefixIndexes = () => this.#prefixIndexes();
    new Gauge({
      name: "inference_extension_prefix_indexer_size",
      help: "Block hashes held by the approximate prefix index, over all endpoints.",
      labelNames: ["inference_pool"],
      registers,
      collect() {
        this.reset();
        for (const [pool, m] of prefixIndexes()) this.set({ inference_pool: pool }, m.indexSize);
      },
    });
    new Gauge({
      name: "inference_extension_prefix_indexer_hit_ratio",
      help: "Prompt blocks the chosen endpoint already held / prompt blocks looked up, since start (0..1).",
      labelNames: ["inference_pool"],
      registers,
      collect() {
        this.reset();
        for (const [pool, m] of prefixIndexes()) {
          this.set({ inference_pool: pool }, m.lookupBlocks === 0 ? 0 : m.hitBlocks / m.lookupBlocks);
        }
      },
    });
  }

  /** Per-plugin timing, passed to the schedulers. */
  readonly observePlugin: PluginObserver = (point, plugin, seconds) => {
    let byPoint = this.#pluginSeries.get(plugin);
    if (!byPoint) {
      byPoint = new Map();
      this.#pluginSeries.set(plugin, byPoint);
    }
    let series = byPoint.get(point);
    if (!series) {
      series = this.#plugin.series({
        extension_point: point,
        plugin_type: plugin.type,
        plugin_name: plugin.name,
      });
      byPoint.set(point, series);
    }
    series.observe(seconds);
  };

  /** One decision took `seconds`; `picked` false when it found no endpoint. */
  observeDecision(seconds: number, picked: boolean): void {
    this.#e2e.observe(seconds);
    (picked ? this.#succeeded : this.#failed).inc();
  }

  /** The plugins of a pool's current scheduler (PoolSchedulerDeps.onPlugins); replaces the previous ones. */
  setPoolPlugins(poolKey: string, plugins: readonly Plugin[]): void {
    this.#pools.set(poolKey, {
      sources: plugins.filter(isMetricsSource),
      listeners: plugins.filter(isEndpointRemovedListener),
    });
  }

  /** An endpoint left: every live plugin holding per-endpoint state forgets it. */
  removeEndpoint(endpointId: string): void {
    for (const p of this.#pools.values()) for (const l of p.listeners) l.endpointRemoved(endpointId);
  }

  /** Forget pools that no longer exist. */
  retainPools(poolKeys: ReadonlySet<string>): void {
    for (const key of this.#pools.keys()) if (!poolKeys.has(key)) this.#pools.delete(key);
  }

  /** Per pool with a prefix index, its plugins' prefix-index counters summed. */
  #prefixIndexes(): Map<string, PrefixIndexMetrics> {
    const out = new Map<string, PrefixIndexMetrics>();
    for (const [pool, { sources }] of this.#pools) {
      for (const s of sources) {
        const m = s.pluginMetrics().prefixIndex;
        if (m === undefined) continue;
        const sum = out.get(pool);
        out.set(
          pool,
          sum === undefined
            ? m
            : {
                indexSize: sum.indexSize + m.indexSize,
                hitBlocks: sum.hitBlocks + m.hitBlocks,
                lookupBlocks: sum.lookupBlocks + m.lookupBlocks,
              },
        );
      }
    }
    return out;
  }
}
