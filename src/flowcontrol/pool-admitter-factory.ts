/**
 * The one place the director gets a pool's Admitter from; called whenever a pool appears or its
 * admission settings change (the replaced one is closed). Queueing (a FlowController) when the
 * pool carries the `experimental-use-queueing: "true"` annotation or an EndpointPickerConfig has a
 * `flowControl` section; otherwise the legacy admitter (non-Critical shed with 429 when saturated).
 */
import type { PickerConfigRecord } from "../api/endpoint-picker-config.ts";
import type { PoolRecord } from "../api/inference-pool.ts";
import type { Candidate } from "../scheduling/types.ts";
import { createPoolAdmitter, type PoolAdmitter } from "./create-admitter.ts";
import type { FlowControlMetrics } from "./metrics.ts";
import { flowControlSection, settingsFromSection } from "./picker-config-section.ts";

/** What an admitter may read: the pool's live candidates, the picker configs, the metrics families. */
export interface AdmitterDeps {
  readonly candidates: () => readonly Candidate[];
  readonly pickerConfigs?: readonly PickerConfigRecord[];
  readonly metrics?: FlowControlMetrics;
}

/** The admission settings' identity, to tell whether a config change needs a new admitter. */
export function admissionFingerprint(pool: PoolRecord, pickerConfigs: readonly PickerConfigRecord[]): string {
  return JSON.stringify([pool, flowControlSection(pickerConfigs) ?? null]);
}

/** Whether the pool queues (flow control): its annotation, or a `flowControl` section. */
export function poolQueues(pool: PoolRecord, pickerConfigs: readonly PickerConfigRecord[]): boolean {
  return pool.useQueueing || flowControlSection(pickerConfigs)?.flowControl !== undefined;
}

/** Builds the pool's admitter. The section was validated at load (config/build-config.ts). */
export function admitterForPool(pool: PoolRecord, deps: AdmitterDeps): PoolAdmitter {
  const section = flowControlSection(deps.pickerConfigs ?? []);
  return createPoolAdmitter({
    poolName: pool.name,
    candidates: deps.candidates,
    queueing: poolQueues(pool, deps.pickerConfigs ?? []),
    settings: settingsFromSection(section),
    enginePriority: pool.enginePriority,
    ...(deps.metrics && { metrics: deps.metrics }),
  });
}
