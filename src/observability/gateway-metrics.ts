/**
 * The gateway's own Prometheus metrics, named as the Gateway API Inference Extension names them:
 * `inference_model_*` for requests resolved through an InferenceModel (or passed through),
 * `inference_objective_*` for requests that carried an InferenceObjective, and `inference_pool_*`
 * per pool. Labels: model_name (client), target_model_name (engine), error_code.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Datastore } from "../datastore/datastore.ts";
import { FlowControlMetrics } from "../flowcontrol/metrics.ts";
import type { ExchangeView, RequestFamily } from "../requestcontrol/exchange-view.ts";
import type { LifecycleHooks } from "../requestcontrol/lifecycle-hooks.ts";

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

/** The per-(model, target) series of one family, bound once (label hashing is off the hot path). */
interface Series {
  readonly requests: { inc(): void };
  readonly duration: { observe(v: number): void };
  readonly requestSizes: { observe(v: number): void };
  readonly responseSizes: { observe(v: number): void };
  readonly inputTokens: { observe(v: number): void };
  readonly outputTokens: { observe(v: number): void };
  readonly ttft: { observe(v: number): void };
  readonly tpot: { observe(v: number): void };
  readonly ntpot: { observe(v: number): void };
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
        tpot: this.tpot.labels(labels),
        ntpot: this.ntpot.labels(labels),
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
  readonly tpot: Histogram<Labels>;
  readonly ntpot: Histogram<Labels>;

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
      help: "Time from request arrival to the first content token of a streamed answer.",
      labelNames,
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tpot = new Histogram({
      name: `${prefix}_request_tpot_seconds`,
      help: "Time per output token after the first, of a streamed answer (from the engine's usage).",
      labelNames,
      buckets: TPOT_BUCKETS,
      registers,
    });
    this.ntpot = new Histogram({
      name: `${prefix}_normalized_time_per_output_token_seconds`,
      help: "Request duration divided by its output tokens.",
      labelNames,
      buckets: TPOT_BUCKETS,
      registers,
    });
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

  /**
   * Subscribes to a director's hooks: `routed` counts the request and its running gauge, `end`
   * records everything else. Model names become labels only when the configuration or the pool's
   * servers know them (others are counted under ""), so label cardinality stays bounded.
   */
  subscribe(hooks: LifecycleHooks): () => void {
    const offRouted = hooks.on("routed", (ex) => {
      const s = this.#families[ex.family].series(modelLabel(ex), ex.targetModel ?? "");
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
      f.requests.inc({ model_name: "", target_model_name: "" });
      if (ex.errorCode !== undefined)
        f.errors.inc({ model_name: "", target_model_name: "", error_code: ex.errorCode });
      return;
    }
    const model = modelLabel(ex);
    const s = f.series(model, ex.targetModel);
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
      f.errors.inc({ model_name: model, target_model_name: ex.targetModel, error_code: ex.errorCode });
  }
}

/** The `model_name` label of an exchange: the client's name when it is a known model, else "". */
function modelLabel(ex: ExchangeView): string {
  return ex.knownModel ? (ex.clientModel ?? "") : "";
}
