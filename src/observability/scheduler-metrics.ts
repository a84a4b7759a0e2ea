/**
 * The scheduler's families on the gateway's /metrics, named as the Inference Extension's EPP names
 * them: decision latency, per-plugin latency, attempts, and the prefix indexer's size and hit ratio.
 */
import { Gauge, type Registry } from "prom-client";
import type { PrefixCacheScorer } from "../scheduling/plugins/scorers/prefix-cache-scorer.ts";
import type { PluginObserver } from "../scheduling/profile-runner.ts";
import type { Plugin } from "../scheduling/types.ts";
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
  /** Live prefix scorers by pool key (replaced when a pool's scheduler is rebuilt). */
  readonly #prefix = new Map<string, PrefixCacheScorer>();

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
    const prefix = this.#prefix;
    new Gauge({
      name: "inference_extension_prefix_indexer_size",
      help: "Block hashes held by the approximate prefix index, over all endpoints.",
      labelNames: ["inference_pool"],
      registers,
      collect() {
        this.reset();
        for (const [pool, s] of prefix) this.set({ inference_pool: pool }, s.stats().indexSize);
      },
    });
    new Gauge({
      name: "inference_extension_prefix_indexer_hit_ratio",
      help: "Prompt blocks the chosen endpoint already held / prompt blocks looked up, since start (0..1).",
      labelNames: ["inference_pool"],
      registers,
      collect() {
        this.reset();
        for (const [pool, s] of prefix) {
          const st = s.stats();
          this.set({ inference_pool: pool }, st.lookupBlocks === 0 ? 0 : st.hitBlocks / st.lookupBlocks);
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

  /** The pool's current prefix scorer (its stats feed the indexer gauges). */
  setPrefixScorer(poolKey: string, scorer: PrefixCacheScorer): void {
    this.#prefix.set(poolKey, scorer);
  }

  /** An endpoint left: drop it from every live prefix index. */
  removeEndpoint(endpointId: string): void {
    for (const s of this.#prefix.values()) s.removeEndpoint(endpointId);
  }

  /** Forget pools that no longer exist. */
  retainPools(poolKeys: ReadonlySet<string>): void {
    for (const key of this.#prefix.keys()) if (!poolKeys.has(key)) this.#prefix.delete(key);
  }
}
