/** Min-max normalisation shared by load scorers: lowest value → 1, highest → 0, all equal → 1. */
export function invertedMinMax(values: readonly number[]): number[] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  return values.map((v) => (range > 0 ? (max - v) / range : 1));
}
