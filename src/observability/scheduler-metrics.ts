/**
 * The scheduler's families on the gateway's /metrics, named as the Inference Extension's EPP names
 * them: decision latency, per-plugin latency, attempts, and the prefix indexer's size and hit ratio.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { PrefixCacheScorer } from "../scheduling/plugins/scorers/prefix-cache-scorer.ts";
import type { PluginObserver } from "../scheduling/profile-runner.ts";

const LATENCY_BUCKETS = [
  0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
];

export class SchedulerMetrics {
  readonly #e2e: Histogram;
  readonly #attempts: Counter<"status">;
  readonly #plugin: Histogram<"extension_point" | "plugin_type" | "plugin_name">;
  /** Live prefix scorers by pool key (replaced when a pool's scheduler is rebuilt). */
  readonly #prefix = new Map<string, PrefixCacheScorer>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#e2e = new Histogram({
      name: "inference_extension_scheduler_e2e_duration_seconds",
      help: "Time of one scheduling decision (filters, scorers, picker), seconds.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#attempts = new Counter({
      name: "inference_extension_scheduler_attempts_total",
      help: "Scheduling decisions by outcome (success: an endpoint was picked; failure: none).",
      labelNames: ["status"],
      registers,
    });
    this.#plugin = new Histogram({
      name: "inference_extension_plugin_duration_seconds",
      help: "Time of one plugin call, seconds.",
      labelNames: ["extension_point", "plugin_type", "plugin_name"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
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
    this.#plugin.observe(
      { extension_point: point, plugin_type: plugin.type, plugin_name: plugin.name },
      seconds,
    );
  };

  /** One decision took `seconds`; `picked` false when it found no endpoint. */
  observeDecision(seconds: number, picked: boolean): void {
    this.#e2e.observe(seconds);
    this.#attempts.inc({ status: picked ? "success" : "failure" });
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
