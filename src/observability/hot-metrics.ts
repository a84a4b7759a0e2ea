/**
 * Metric families for the request path: counters and histograms whose bound series update with a
 * few arithmetic operations and no allocation, registered in a prom-client Registry, which still
 * does the exposition. Hand-written because prom-client validates and hashes the label set on
 * every inc/observe, even through `labels()` children: with the ~12 observations a request makes,
 * that was the largest single cost of the core path (bench/core-path.ts, docs/benchmarks.md).
 * Series are created on first use and live as long as the family (label values come from the
 * configuration, so their number stays bounded).
 */
import type { Registry } from "prom-client";

type LabelValues<L extends string> = Readonly<Record<L, string>>;

/** One value of the registry's `get()` result (prom-client's MetricValue shape). */
interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

abstract class Family<L extends string, S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "histogram" | "gauge";
  /** prom-client asks metrics how to aggregate across cluster workers. */
  readonly aggregator = "sum";
  readonly #labelNames: readonly L[];
  readonly #series = new Map<string, { labels: LabelValues<L>; series: S }>();

  constructor(name: string, help: string, labelNames: readonly L[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    registry.registerMetric(this as never);
  }

  protected abstract create(): S;
  protected abstract values(labels: LabelValues<L>, series: S, out: MetricValue[]): void;

  /** The series for these label values (created on first use). Bind once, update often. */
  series(labels: LabelValues<L>): S {
    let key = "";
    for (const n of this.#labelNames) key += `${labels[n]}\u0000`;
    let entry = this.#series.get(key);
    if (!entry) {
      const copy = {} as Record<L, string>;
      for (const n of this.#labelNames) copy[n] = labels[n];
      entry = { labels: copy, series: this.create() };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  /** prom-client's collection interface. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.#series.values()) this.values(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Drops every series (prom-client's registry.resetMetrics()). */
  reset(): void {
    this.#series.clear();
  }
}

/** A monotonically increasing count. */
export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class CounterFamily<L extends string> extends Family<L, CounterSeries> {
  readonly type = "counter";
  protected create(): CounterSeries {
    return new CounterSeries();
  }
  protected values(labels: LabelValues<L>, s: CounterSeries, out: MetricValue[]): void {
    out.push({ labels: { ...labels }, value: s.value });
  }
}

/** A value that goes up and down (e.g. requests running). */
export class GaugeSeries {
  value = 0;
  inc(): void {
    this.value++;
  }
  dec(): void {
    this.value--;
  }
}

export class GaugeFamily<L extends string> extends Family<L, GaugeSeries> {
  readonly type = "gauge";
  protected create(): GaugeSeries {
    return new GaugeSeries();
  }
  protected values(labels: LabelValues<L>, s: GaugeSeries, out: MetricValue[]): void {
    out.push({ labels: { ...labels }, value: s.value });
  }
}

/** Cumulative buckets, sum and count, as Prometheus histograms are exposed. */
export class HistogramSeries {
  readonly #bounds: Float64Array;
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: Float64Array) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  readonly type = "histogram";
  readonly #bounds: Float64Array;

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
    this.#bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.#bounds);
  }

  protected values(labels: LabelValues<L>, s: HistogramSeries, out: MetricValue[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += s.counts[i]!;
      out.push({
        labels: { ...labels, le: this.#bounds[i]! },
        value: cumulative,
        metricName: `${this.name}_bucket`,
      });
    }
    out.push({ labels: { ...labels, le: "+Inf" }, value: s.count, metricName: `${this.name}_bucket` });
    out.push({ labels: { ...labels }, value: s.sum, metricName: `${this.name}_sum` });
    out.push({ labels: { ...labels }, value: s.count, metricName: `${this.name}_count` });
  }
}
