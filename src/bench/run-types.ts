import type { BenchmarkMetrics, Slo } from "./metrics.ts";
import type { RequestOutput } from "./request-output.ts";
import type { MetricsSample } from "./scrape-metrics.ts";

/** The measured outcome of one traffic class (or of all classes together, the aggregate). */
export interface ClassRun {
  name: string;
  /** Model name sent in requests. */
  model: string;
  /** `priority` sent with each request, if the class has one. */
  priority: number | undefined;
  /** Configured requests per second (Infinity = all at t0); the aggregate sums its classes. */
  requestRate: number;
  burstiness: number;
  /** Client-side concurrency limit; null = none (the aggregate sums its classes' limits when all have one). */
  maxConcurrency: number | null;
  numPrompts: number;
  slo: Slo | undefined;
  /** Whether goodput SLOs apply (this class's, or any class's for the aggregate). */
  goodputEnabled: boolean;
  /** Benchmark start to this class's last completion, s. */
  durationS: number;
  outputs: RequestOutput[];
  metrics: BenchmarkMetrics;
}

/** Everything `runBenchmark` measured: one ClassRun per class, the aggregate, scraped gauges. */
export interface BenchmarkRun {
  /** Wall-clock time the main run started. */
  startedAt: Date;
  /** Benchmark start on the monotonic clock, s (origin of startTime offsets in charts). */
  t0: number;
  classes: ClassRun[];
  aggregate: ClassRun;
  /** True when the run used --class/--workload: the report then has per-class blocks and extra rows. */
  multiClass: boolean;
  /** Gauge samples from --scrape-metrics, in time order. */
  samples: MetricsSample[];
}
