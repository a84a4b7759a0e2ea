/**
 * The one factory the gateway calls per pool: a FlowController when queueing is on (pool
 * annotation or a `flowControl` section), else the LegacyAdmitter with the same detector.
 */
import { BUILTIN_REGISTRY } from "../plugins/builtin-registry.ts";
import type { Candidate } from "../scheduling/types.ts";
import type { Timers } from "../timers.ts";
import { type FlowControlSettings, parseFlowControl } from "./config.ts";
import { FlowController } from "./flow-controller.ts";
import { LegacyAdmitter } from "./legacy-admitter.ts";
import type { FlowControlMetrics } from "./metrics.ts";
import type { Admitter } from "./types.ts";

export interface PoolAdmitterOptions {
  readonly poolName: string;
  /** The pool's current candidates, read at every decision. */
  readonly candidates: () => readonly Candidate[];
  /** True when the pool asked for queueing (annotation "true" or a flowControl section). */
  readonly queueing: boolean;
  /** Resolved flow-control settings (default: parseFlowControl(undefined), all defaults). */
  readonly settings?: FlowControlSettings;
  readonly metrics?: FlowControlMetrics;
  /** Default REAL_TIMERS. */
  readonly timers?: Timers;
  /** The servers schedule by vLLM's `priority` (pool annotation engine-priority). */
  readonly enginePriority?: boolean;
}

/** An Admitter plus close() to release timers and queued requests when the pool goes away. */
export interface PoolAdmitter extends Admitter {
  close(): void;
}

/** Builds the admitter for one pool. */
export function createPoolAdmitter(options: PoolAdmitterOptions): PoolAdmitter {
  const settings = options.settings ?? parseFlowControl(undefined);
  const common = {
    candidates: options.candidates,
    poolName: options.poolName,
    ...(options.metrics && { metrics: options.metrics }),
    ...(options.timers && { timers: options.timers }),
  };
  if (options.queueing)
    return new FlowController({ ...common, settings, enginePriority: options.enginePriority === true });
  const detector = BUILTIN_REGISTRY.create(settings.detector, "saturation-detector", "saturation detector");
  const legacy = new LegacyAdmitter({ ...common, detector });
  return Object.assign(legacy, { close(): void {} });
}
