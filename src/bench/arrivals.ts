import type { Rng } from "./prng.ts";

/** How request arrivals are spread (vLLM's `--request-rate`, `--burstiness`, `--ramp-up-*`). */
export interface ArrivalParams {
  /** Requests per second; Infinity releases everything at t0. */
  rate: number;
  /** Gamma shape b > 0 (1 = Poisson, < 1 burstier, Infinity = constant gaps). */
  burstiness: number;
  rampUp?: { strategy: "linear" | "exponential"; startRps: number; endRps: number };
}

/** Rate in effect for request `index` of `total` (vLLM's `_get_current_request_rate`). */
export function rateAt(p: ArrivalParams, index: number, total: number): number {
  if (!p.rampUp) return p.rate;
  const progress = index / Math.max(total - 1, 1);
  const { strategy, startRps, endRps } = p.rampUp;
  if (strategy === "linear") return startRps + (endRps - startRps) * progress;
  return startRps * (endRps / startRps) ** progress;
}

/**
 * Send offsets in seconds from the benchmark start for n requests, as vLLM's current `get_request`:
 * gaps ~ Gamma(b, 1/(rate·b)) summed, then (without ramp-up) rescaled so the last one is exactly
 * n/rate. The first request also waits its gap. All zeros for an infinite rate.
 */
export function arrivalOffsets(p: ArrivalParams, n: number, rng: Rng): number[] {
  if (!(p.burstiness > 0)) throw new RangeError(`--burstiness must be > 0, got ${p.burstiness}`);
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rateAt(p, i, n);
    if (!(r > 0)) throw new RangeError(`request rate must be > 0, got ${r}`);
    if (r === Number.POSITIVE_INFINITY) delays.push(0);
    else if (p.burstiness === Number.POSITIVE_INFINITY) delays.push(1 / r);
    else delays.push(rng.gamma(p.burstiness, 1 / (r * p.burstiness)));
  }
  for (let i = 1; i < n; i++) delays[i]! += delays[i - 1]!;
  const last = delays[n - 1];
  if (!p.rampUp && last !== undefined && last !== 0) {
    const factor = n / p.rate / last;
    for (let i = 0; i < n; i++) delays[i]! *= factor;
  }
  return delays;
}
