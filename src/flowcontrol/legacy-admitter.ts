/**
 * Admission for pools without queueing (the Inference Extension's legacy path): when the pool is
 * saturated, requests at or below `shedAtOrBelow` priority (default 0: every non-Critical request,
 * as in v0.4–v0.5) are refused at once with 429 and Retry-After; everything else passes.
 */
import { GatewayError } from "../errors.ts";
import type { Candidate } from "../scheduling/types.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";
import type { FlowControlMetrics } from "./metrics.ts";
import type { Admitter, FlowRequest, SaturationDetector } from "./types.ts";

export interface LegacyAdmitterOptions {
  readonly candidates: () => readonly Candidate[];
  readonly detector: SaturationDetector;
  /** Highest priority that is shed when saturated (default 0; set -1 for v1 behaviour: only negatives). */
  readonly shedAtOrBelow?: number;
  /** Seconds for Retry-After on a shed (default 1). */
  readonly retryAfterSeconds?: number;
  /** Its clock is read at every decision (default REAL_TIMERS). */
  readonly timers?: Timers;
  readonly metrics?: FlowControlMetrics;
  readonly poolName?: string;
}

export class LegacyAdmitter implements Admitter {
  private readonly options: LegacyAdmitterOptions;

  constructor(options: LegacyAdmitterOptions) {
    this.options = options;
  }

  admit(request: FlowRequest): Promise<void> {
    const o = this.options;
    const shed =
      request.priority <= (o.shedAtOrBelow ?? 0) &&
      o.detector.saturation(o.candidates(), (o.timers ?? REAL_TIMERS).now()) >= 1;
    o.metrics?.observe(o.poolName ?? "", request.priority, shed ? "rejected_shed" : "dispatched", 0);
    if (!shed) {
      request.onAdmitted?.();
      return Promise.resolve();
    }
    return Promise.reject(
      new GatewayError(
        "shed",
        "the pool is saturated; only Critical requests are accepted now, retry later",
        {
          retryAfterSeconds: o.retryAfterSeconds ?? 1,
        },
      ),
    );
  }

  /** Nothing waits, so there is nothing to dispatch. */
  notify(): void {}
}
