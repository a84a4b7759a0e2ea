/**
 * The one place that decides which scheduler a pool gets. The director calls it whenever a pool
 * appears or changes. Today every pool gets the random scheduler; the scheduling module replaces
 * this body (pool.useSchedulerV2, EndpointPickerConfig documents).
 */
import type { PickerConfigRecord } from "../api/endpoint-picker-config.ts";
import type { PoolRecord } from "../api/inference-pool.ts";
import type { PoolScheduling } from "./pool-scheduling.ts";
import { RandomScheduler } from "./random-scheduler.ts";

export function createPoolScheduler(
  _pool: PoolRecord,
  _pickerConfigs: readonly PickerConfigRecord[],
): PoolScheduling {
  return { scheduler: new RandomScheduler(), preRequestHooks: [], responseHooks: [] };
}
