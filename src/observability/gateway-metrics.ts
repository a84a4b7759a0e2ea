/**
 * The gateway's own Prometheus metrics, named as the Gateway API Inference Extension names them:
 * `inference_model_*` for requests resolved through an InferenceModel (or passed through),
 * `inference_objective_*` for requests that carried an InferenceObjective, and `inference_pool_*`
 * per pool. Labels: model_name (client), target_model_name (engine), error_code.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Datastore } from "../datastore/datastore.ts";
import { FlowControlMetrics } from "../flowcontrol/metrics.ts";

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

type Labels = "model_name" | "target_model_name";

/** The per-(model, target) series of one family, bound once (label hashing is off the hot path). */
interface Series {
  readonly requests: { inc(): void };
  readonly duration: { observe(v: number): void };
  readonly requestSizes: { observe(v: number): void };
  readonly responseSizes: { observe(v: number): void };
  readonly inputTokens: { observe(v: number): void };
  readonly outputTokens: { observe(v: number): void };
  readonly ttft: { observe(v: number): void };
  readonly running: { inc(): void; dec(): void };
}

class Family {
  readonly #series = new Map<string, Series>();

  /** Bound series for one label pair (model names come from the configuration, so the map stays small). */
  series(modelName: string, targetModel: string): Series {
    const key = `${modelName}\u0000${targetModel}`;
    let s = this.#series.get(key);
    if (!s) {
      const labels = { model_name: modelName, target_model_name: targetModel };
      s = {
        requests: this.requests.labels(labels),
        duration: this.duration.labels(labels),
        requestSizes: this.requestSizes.labels(labels),
        responseSizes: this.responseSizes.labels(labels),
        inputTokens: this.inputTokens.labels(labels),
        outputTokens: this.outputTokens.labels(labels),
        ttft: this.ttft.labels(labels),
        running: this.running.labels({ model_name: modelName }),
      };
      this.#series.set(key, s);
    }
    return s;
  }

  readonly requests: Counter<Labels>;
  readonly errors: Counter<Labels | "error_code">;
  readonly duration: Histogram<Labels>;
  readonly requestSizes: Histogram<Labels>;
  readonly responseSizes: Histogram<Labels>;
  readonly inputTokens: Histogram<Labels>;
  readonly outputTokens: Histogram<Labels>;
  readonly running: Gauge<"model_name">;
  readonly ttft: Histogram<Labels>;

  constructor(prefix: string, registers: Registry[]) {
    const labelNames = ["model_name", "target_model_name"] as const;
    this.requests = new Counter({
      name: `${prefix}_request_total`,
      help: "Requests received, per model.",
      labelNames,
      registers,
    });
    this.errors = new Counter({
      name: `${prefix}_request_error_total`,
      help: "Requests that failed, per model and error code.",
      labelNames: [...labelNames, "error_code"],
      registers,
    });
    this.duration = new Histogram({
      name: `${prefix}_request_duration_seconds`,
      help: "Time from request arrival to the end of the response.",
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.requestSizes = new Histogram({
      name: `${prefix}_request_sizes`,
      help: "Request body sizes in bytes.",
      labelNames,
      buckets: SIZE_BUCKETS,
      registers,
    });
    this.responseSizes = new Histogram({
      name: `${prefix}_response_sizes`,
      help: "Response body sizes in bytes.",
      labelNames,
      buckets: SIZE_BUCKETS,
      registers,
    });
    this.inputTokens = new Histogram({
      name: `${prefix}_input_tokens`,
      help: "Prompt tokens (from the engine's usage).",
      labelNames,
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.outputTokens = new Histogram({
      name: `${prefix}_output_tokens`,
      help: "Completion tokens (from the engine's usage).",
      labelNames,
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.running = new Gauge({
      name: `${prefix}_running_requests`,
      help: "Requests in flight, per model.",
      labelNames: ["model_name"],
      registers,
    });
    this.ttft = new Histogram({
      name: `${prefix}_request_ttft_seconds`,
      help: "Time from request arrival to the first response byte of a streamed answer.",
      labelNames,
      buckets: TTFT_BUCKETS,
      registers,
    });
  }
}

/** Which family a request is counted in. */
export type MetricFamily = "model" | "objective";

/** What one finished request reports. */
export interface RequestRecord {
  readonly family: MetricFamily;
  readonly modelName: string;
  readonly targetModel: string;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly durationMs: number;
  readonly firstByteMs?: number;
  readonly streamed: boolean;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Error code from the error table (or `upstream_<status>`), when the request failed. */
  readonly errorCode?: string;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Flow-control families (queue size/bytes, queue duration, pool saturation), in this registry. */
  readonly flowControl = new FlowControlMetrics(this.registry);
  readonly #families: Record<MetricFamily, Family>;

  constructor(datastore: Datastore) {
    const registers = [this.registry];
    this.#families = {
      model: new Family("inference_model", registers),
      objective: new Family("inference_objective", registers),
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
    poolGauge("inference_pool_ready_pods", "Endpoints in the pool.", (ds, k) => ds.poolEndpoints(k).length);
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
  }

  /** A request entered the gateway with a known model (before admission). */
  started(family: MetricFamily, modelName: string, targetModel: string): void {
    const s = this.#families[family].series(modelName, targetModel);
    s.requests.inc();
    s.running.inc();
  }

  /** A request that `started` ended (successfully or not). */
  finished(r: RequestRecord): void {
    const f = this.#families[r.family];
    const s = f.series(r.modelName, r.targetModel);
    s.running.dec();
    s.duration.observe(r.durationMs / 1000);
    s.requestSizes.observe(r.requestBytes);
    s.responseSizes.observe(r.responseBytes);
    if (r.streamed && r.firstByteMs !== undefined) s.ttft.observe(r.firstByteMs / 1000);
    if (r.promptTokens !== undefined) s.inputTokens.observe(r.promptTokens);
    if (r.completionTokens !== undefined) s.outputTokens.observe(r.completionTokens);
    if (r.errorCode !== undefined)
      f.errors.inc({ model_name: r.modelName, target_model_name: r.targetModel, error_code: r.errorCode });
  }

  /** A request refused before a model was resolved (bad JSON, no route...). `modelName` "" when unknown (bounded labels). */
  rejected(modelName: string, errorCode: string): void {
    const f = this.#families.model;
    f.requests.inc({ model_name: modelName, target_model_name: "" });
    f.errors.inc({ model_name: modelName, target_model_name: "", error_code: errorCode });
  }
}
