/**
 * The gateway's own Prometheus metrics, named as the Gateway API Inference Extension names them:
 * `inference_model_*` for requests resolved through an InferenceModel (or passed through),
 * `inference_objective_*` for requests that carried an InferenceObjective, and `inference_pool_*`
 * per pool (and `inference_pool_endpoint_*` per endpoint). Labels: model_name (client),
 * target_model_name (engine), error_code; name (pool), endpoint.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Datastore } from "../datastore/datastore.ts";
import { FlowControlMetrics } from "../flowcontrol/metrics.ts";
import type { ExchangeView, RequestFamily } from "../requestcontrol/exchange-view.ts";
import type { LifecycleHooks } from "../requestcontrol/lifecycle-hooks.ts";
import type { OutlierDetector } from "../requestcontrol/outlier-detector.ts";
import {
  CounterFamily,
  type CounterSeries,
  GaugeFamily,
  type GaugeSeries,
  HistogramFamily,
  type HistogramSeries,
} from "./hot-metrics.ts";

const DURATION_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
  180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];
const SIZE_BUCKETS = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152,
  4194304, 8388608, 16777216,
];
const TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];
const TTFT_BUCKETS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60,
];

const TPOT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5];

type Labels = "model_name" | "target_model_name";

/** The per-(model, target) series of one family, bound once (no label hashing on the request path). */
interface Series {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly requestSizes: HistogramSeries;
  readonly responseSizes: HistogramSeries;
  readonly inputTokens: HistogramSeries;
  readonly outputTokens: HistogramSeries;
  readonly ttft: HistogramSeries;
  readonly tpot: HistogramSeries;
  readonly ntpot: HistogramSeries;
  readonly running: GaugeSeries;
}

class Family {
  /** Bound series by model name, then target model (no key strings built per request). */
  readonly #series = new Map<string, Map<string, Series>>();
  readonly requests: CounterFamily<Labels>;
  readonly errors: CounterFamily<Labels | "error_code">;
  readonly duration: HistogramFamily<Labels>;
  readonly requestSizes: HistogramFamily<Labels>;
  readonly responseSizes: HistogramFamily<Labels>;
  readonly inputTokens: HistogramFamily<Labels>;
  readonly outputTokens: HistogramFamily<Labels>;
  readonly running: GaugeFamily<"model_name">;
  readonly ttft: HistogramFamily<Labels>;
  readonly tpot: HistogramFamily<Labels>;
  readonly ntpot: HistogramFamily<Labels>;

  constructor(prefix: string, registry: Registry) {
    const labels = ["model_name", "target_model_name"] as const;
    const histogram = (name: string, help: string, buckets: readonly number[]) =>
      new HistogramFamily(`${prefix}_${name}`, help, labels, buckets, registry);
    this.requests = new CounterFamily(
      `${prefix}_request_total`,
      "Requests received, per model.",
      labels,
      registry,
    );
    this.errors = new CounterFamily(
      `${prefix}_request_error_total`,
      "Requests that failed, per model and error code.",
      [...labels, "error_code"],
      registry,
    );
    this.duration = histogram(
      "request_duration_seconds",
      "Time from request arrival to the end of the response.",
      DURATION_BUCKETS,
    );
    this.requestSizes = histogram("request_sizes", "Request body sizes in bytes.", SIZE_BUCKETS);
    this.responseSizes = histogram("response_sizes", "Response body sizes in bytes.", SIZE_BUCKETS);
    this.inputTokens = histogram("input_tokens", "Prompt tokens (from the engine's usage).", TOKEN_BUCKETS);
    this.outputTokens = histogram(
      "output_tokens",
      "Completion tokens (from the engine's usage).",
      TOKEN_BUCKETS,
    );
    this.running = new GaugeFamily(
      `${prefix}_running_requests`,
      "Requests in flight, per model.",
      ["model_name"],
      registry,
    );
    this.ttft = histogram(
      "request_ttft_seconds",
      "Time from request arrival to the first content token of a streamed answer.",
      TTFT_BUCKETS,
    );
    this.tpot = histogram(
      "request_tpot_seconds",
      "Time per output token after the first, of a streamed answer (from the engine's usage).",
      TPOT_BUCKETS,
    );
    this.ntpot = histogram(
      "normalized_time_per_output_token_seconds",
      "Request duration divided by its output tokens.",
      TPOT_BUCKETS,
    );
  }

  /** Bound series for one label pair (model names are bounded, see modelLabel). */
  series(modelName: string, targetModel: string): Series {
    let byTarget = this.#series.get(modelName);
    if (!byTarget) {
      byTarget = new Map();
      this.#series.set(modelName, byTarget);
    }
    let s = byTarget.get(targetModel);
    if (!s) {
      const labels = { model_name: modelName, target_model_name: targetModel };
      s = {
        requests: this.requests.series(labels),
        duration: this.duration.series(labels),
        requestSizes: this.requestSizes.series(labels),
        responseSizes: this.responseSizes.series(labels),
        inputTokens: this.inputTokens.series(labels),
        outputTokens: this.outputTokens.series(labels),
        ttft: this.ttft.series(labels),
        tpot: this.tpot.series(labels),
        ntpot: this.ntpot.series(labels),
        running: this.running.series({ model_name: modelName }),
      };
      byTarget.set(targetModel, s);
    }
    return s;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Flow-control families (queue size/bytes, queue duration, pool saturation), in this registry. */
  readonly flowControl = new FlowControlMetrics(this.registry);
  readonly #families: Record<RequestFamily, Family>;

  constructor(datastore: Datastore) {
    const registers = [this.registry];
    this.#families = {
      model: new Family("inference_model", this.registry),
      objective: new Family("inference_objective", this.registry),
    };
    const poolGauge = (
      name: string,
      help: string,
      value: (ds: Datastore, poolKey: string) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: ["name"],
        registers,
        collect() {
          this.reset();
          for (const pool of datastore.config.pools.values())
            this.set({ name: pool.name }, value(datastore, pool.key));
        },
      });
    };
    const avg = (
      ds: Datastore,
      key: string,
      f: (m: { waiting: number; running: number; kvCacheUsage: number }) => number,
    ) => {
      const eps = ds.poolEndpoints(key);
      return eps.length === 0 ? 0 : eps.reduce((s, e) => s + f(e.metrics), 0) / eps.length;
    };
    poolGauge(
      "inference_pool_ready_pods",
      "Endpoints in the pool that take connections (neither the scraper nor requests were refused).",
      (ds, k) => ds.readyCount(k),
    );
    poolGauge(
      "inference_pool_average_kv_cache_utilization",
      "Mean scraped KV-cache utilisation (0..1).",
      (ds, k) => avg(ds, k, (m) => m.kvCacheUsage),
    );
    poolGauge("inference_pool_average_queue_size", "Mean scraped waiting requests per endpoint.", (ds, k) =>
      avg(ds, k, (m) => m.waiting),
    );
    poolGauge(
      "inference_pool_average_running_requests",
      "Mean scraped running requests per endpoint.",
      (ds, k) => avg(ds, k, (m) => m.running),
    );
    // Per endpoint: bounded by the configured endpoints; the staleness alert reads it.
    new Gauge({
      name: "inference_pool_endpoint_metrics_age_seconds",
      help: "Seconds since the gateway last scraped the endpoint's metrics successfully (+Inf: never).",
      labelNames: ["name", "endpoint"],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const pool of datastore.config.pools.values())
          for (const e of datastore.poolEndpoints(pool.key)) {
            const at = e.metrics.updatedAt;
            this.set(
              { name: pool.name, endpoint: e.endpoint.id },
              at === 0 ? Number.POSITIVE_INFINITY : Math.max(0, now - at) / 1000,
            );
          }
      },
    });
  }

  /**
   * Counts outlier ejections per pool and endpoint (`inference_pool_endpoint_ejections_total`) and
   * reports which endpoints are ejected now (`inference_pool_endpoint_ejected`, read from the
   * datastore at scrape time). Series of endpoints that leave are dropped, so cardinality stays
   * bounded by the endpoints configured. Returns the unsubscribe.
   */
  subscribeOutliers(outliers: OutlierDetector, datastore: Datastore): () => void {
    const registers = [this.registry];
    /** Label sets counted per endpoint id, to remove when the endpoint leaves. */
    const counted = new Map<string, Set<string>>();
    const note = (endpoint: string, name: string): void => {
      const names = counted.get(endpoint) ?? new Set<string>();
      names.add(name);
      counted.set(endpoint, names);
    };
    const ejections = new Counter({
      name: "inference_pool_endpoint_ejections_total",
      help: "Times outlier detection ejected the endpoint from the pool (consecutive 5xx or gateway failures).",
      labelNames: ["name", "endpoint"],
      registers,
      // Every endpoint's series exists from its first scrape at 0: Prometheus' increase() cannot
      // see the first ejection of a series that is born at 1.
      collect() {
        for (const pool of datastore.config.pools.values())
          for (const e of datastore.poolEndpoints(pool.key)) {
            if (counted.get(e.endpoint.id)?.has(pool.name)) continue;
            this.inc({ name: pool.name, endpoint: e.endpoint.id }, 0);
            note(e.endpoint.id, pool.name);
          }
      },
    });
    new Gauge({
      name: "inference_pool_endpoint_ejected",
      help: "1 while outlier detection keeps the endpoint out of the pool's scheduling, else 0.",
      labelNames: ["name", "endpoint"],
      registers,
      collect() {
        this.reset();
        for (const pool of datastore.config.pools.values())
          for (const e of datastore.poolEndpoints(pool.key))
            this.set({ name: pool.name, endpoint: e.endpoint.id }, e.ejected ? 1 : 0);
      },
    });
    const offEvent = outliers.onEvent((e) => {
      if (e.kind !== "ejected") return;
      const name = datastore.config.pools.get(e.poolKey)?.name ?? e.poolKey;
      ejections.inc({ name, endpoint: e.endpoint });
      note(e.endpoint, name);
    });
    const offEndpoints = datastore.onEndpointsChanged(({ removed }) => {
      for (const s of removed) {
        const id = s.endpoint.id;
        if (datastore.endpoint(id) !== undefined) continue;
        for (const name of counted.get(id) ?? []) ejections.remove({ name, endpoint: id });
        counted.delete(id);
      }
    });
    return () => {
      offEvent();
      offEndpoints();
    };
  }

  /**
   * Subscribes to a director's hooks: `routed` counts the request and its running gauge, `end`
   * records everything else. Model names become labels only when the configuration or the pool's
   * servers know them (others are counted under ""), so label cardinality stays bounded.
   */
  subscribe(hooks: LifecycleHooks): () => void {
    const offRouted = hooks.on("routed", (ex) => {
      const s = this.#families[ex.family].series(modelLabel(ex), targetLabel(ex));
      s.requests.inc();
      s.running.inc();
    });
    const offEnd = hooks.on("end", (ex) => this.#ended(ex));
    return () => {
      offRouted();
      offEnd();
    };
  }

  #ended(ex: ExchangeView): void {
    const f = this.#families[ex.family];
    if (ex.targetModel === undefined) {
      // Refused before a model was resolved (bad JSON, no route, unknown model, too large).
      f.series("", "").requests.inc();
      if (ex.errorCode !== undefined)
        f.errors.series({ model_name: "", target_model_name: "", error_code: ex.errorCode }).inc();
      return;
    }
    const model = modelLabel(ex);
    const target = targetLabel(ex);
    const s = f.series(model, target);
    s.running.dec();
    const seconds = ((ex.endedAt ?? ex.receivedAt) - ex.receivedAt) / 1000;
    s.duration.observe(seconds);
    s.requestSizes.observe(ex.requestBytes);
    s.responseSizes.observe(ex.responseBytes);
    if (ex.stream && ex.firstTokenAt !== undefined) {
      s.ttft.observe((ex.firstTokenAt - ex.receivedAt) / 1000);
      if (ex.completionTokens !== undefined && ex.completionTokens > 1 && ex.endedAt !== undefined)
        s.tpot.observe((ex.endedAt - ex.firstTokenAt) / 1000 / (ex.completionTokens - 1));
    }
    if (ex.promptTokens !== undefined) s.inputTokens.observe(ex.promptTokens);
    if (ex.completionTokens !== undefined) {
      s.outputTokens.observe(ex.completionTokens);
      if (ex.completionTokens > 0) s.ntpot.observe(seconds / ex.completionTokens);
    }
    if (ex.errorCode !== undefined)
      f.errors.series({ model_name: model, target_model_name: target, error_code: ex.errorCode }).inc();
  }
}

/** The `model_name` label of an exchange: the client's name when it is a known model, else "". */
function modelLabel(ex: ExchangeView): string {
  return ex.knownModel ? (ex.clientModel ?? "") : "";
}

/**
 * The `target_model_name` label: "" for an unknown model too (a passed-through name is the
 * client's string: as a label it would make the cardinality unbounded).
 */
function targetLabel(ex: ExchangeView): string {
  return ex.knownModel ? (ex.targetModel ?? "") : "";
}
