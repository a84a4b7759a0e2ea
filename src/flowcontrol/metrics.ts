/**
 * The flow-control metric families of the Inference Extension, for the gateway's registry:
 * queue size and bytes per priority and pool, queue duration by outcome, pool saturation.
 * Gauges are read from the controllers at scrape time (nothing on the request path); the
 * histogram is observed once per request that passes through a controller.
 */
import { Gauge, type Registry } from "prom-client";
import { HistogramFamily } from "../observability/hot-metrics.ts";

/** What a controller exposes at scrape time. */
export interface FlowControlSource {
  readonly poolName: string;
  /** Queued requests and bytes per band priority, and the pool's current saturation. */
  snapshot(): { bands: readonly { priority: number; size: number; bytes: number }[]; saturation: number };
  /** The non-empty flows of each band (for the dashboard; not read at scrape time). */
  flowSizes(): readonly { priority: number; flows: readonly { flowId: string; size: number }[] }[];
}

/** How a request left flow control: the `outcome` label. */
export type QueueOutcome =
  | "dispatched"
  | "rejected_capacity"
  | "rejected_shed"
  | "evicted_ttl"
  | "evicted_client_gone"
  | "evicted_shutdown";

/** Queue-duration buckets in seconds: 1 ms to 10 min. */
export const QUEUE_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/** The four families; register in the gateway's registry by passing it in. One instance per registry. */
export class FlowControlMetrics {
  readonly queueSize: Gauge<"inference_pool" | "priority">;
  readonly queueBytes: Gauge<"inference_pool" | "priority">;
  readonly queueDuration: HistogramFamily<"inference_pool" | "priority" | "outcome">;
  readonly poolSaturation: Gauge<"inference_pool">;
  private readonly sources = new Set<FlowControlSource>();

  constructor(registry: Registry) {
    const sources = this.sources;
    const registers = [registry];
    this.queueSize = bandGauge(
      registers,
      sources,
      "inference_extension_flow_control_queue_size",
      "Requests waiting in the flow-control queues, per pool and priority band.",
      (b) => b.size,
    );
    this.queueBytes = bandGauge(
      registers,
      sources,
      "inference_extension_flow_control_queue_bytes",
      "Request body bytes waiting in the flow-control queues, per pool and priority band.",
      (b) => b.bytes,
    );
    this.queueDuration = new HistogramFamily(
      "inference_extension_flow_control_request_queue_duration_seconds",
      "Time requests spent in flow control, from arrival to dispatch or rejection, by outcome.",
      ["inference_pool", "priority", "outcome"],
      QUEUE_DURATION_BUCKETS,
      registry,
    );
    this.poolSaturation = new Gauge({
      name: "inference_extension_flow_control_pool_saturation",
      help: "Pool saturation from the saturation detector: 0 idle, >= 1 saturated (+Inf with no endpoints).",
      labelNames: ["inference_pool"],
      registers,
      collect() {
        this.reset();
        for (const s of sources) this.set({ inference_pool: s.poolName }, s.snapshot().saturation);
      },
    });
  }

  /** The controllers tracked now, one per queueing pool (the dashboard reads them once per tick). */
  controllers(): readonly FlowControlSource[] {
    return [...this.sources];
  }

  /** Starts reporting a controller's gauges; returns the function that stops it. */
  track(source: FlowControlSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Records one request's time in flow control (seconds) and how it left. */
  observe(poolName: string, priority: number, outcome: QueueOutcome, seconds: number): void {
    this.queueDuration
      .series({ inference_pool: poolName, priority: String(priority), outcome })
      .observe(seconds);
  }
}

type Band = ReturnType<FlowControlSource["snapshot"]>["bands"][number];

/** A per-pool, per-priority gauge whose value `pick` reads from every source's bands at scrape time. */
function bandGauge(
  registers: Registry[],
  sources: ReadonlySet<FlowControlSource>,
  name: string,
  help: string,
  pick: (band: Band) => number,
): Gauge<"inference_pool" | "priority"> {
  return new Gauge({
    name,
    help,
    labelNames: ["inference_pool", "priority"],
    registers,
    collect() {
      this.reset();
      for (const s of sources) {
        for (const b of s.snapshot().bands)
          this.set({ inference_pool: s.poolName, priority: String(b.priority) }, pick(b));
      }
    },
  });
}
