/**
 * numpy-compatible summary statistics used by the report: mean, median, population std and
 * `np.percentile` with linear interpolation. Every function returns 0 for an empty list, like
 * vLLM's `np.mean(xs or 0)`.
 */

/** Arithmetic mean; 0 when empty. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation (numpy's default ddof=0); 0 when empty. */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/** Sorted ascending copy (numeric). */
export function sortedCopy(xs: readonly number[]): number[] {
  return Array.from(Float64Array.from(xs).sort());
}

/** `np.percentile(xs, p)` (method "linear") on an ascending-sorted list; p in [0, 100]. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // numpy's _lerp: a + (b-a)*t, computed from the upper end when t >= 0.5 for accuracy.
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** `np.percentile(xs, p)` on an unsorted list. */
export function percentile(xs: readonly number[], p: number): number {
  return percentileSorted(sortedCopy(xs), p);
}

/** `np.median`: the 50th percentile. */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Mean, median, std and the requested percentiles of `xs` (same unit as xs). */
export interface Summary {
  mean: number;
  median: number;
  std: number;
  percentiles: Array<[p: number, value: number]>;
}

/** Summarises `xs` in one pass over a sorted copy; `scale` multiplies every output (e.g. 1000 for s→ms). */
export function summarize(xs: readonly number[], percentiles: readonly number[], scale = 1): Summary {
  const sorted = sortedCopy(xs);
  return {
    mean: mean(xs) * scale,
    median: percentileSorted(sorted, 50) * scale,
    std: std(xs) * scale,
    percentiles: percentiles.map((p) => [p, percentileSorted(sorted, p) * scale]),
  };
}
