/**
 * Per-pool scheduling and admission objects, created through the two factories
 * (createPoolScheduler, admitterForPool) and kept across reloads while the pool (and the
 * picker configs) stay the same, and the pool's failure policy.
 */
import type { PoolRecord } from "../api/inference-pool.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { PoolAdmitter } from "../flowcontrol/create-admitter.ts";
import type { FlowControlMetrics } from "../flowcontrol/metrics.ts";
import { admissionFingerprint, admitterForPool } from "../flowcontrol/pool-admitter-factory.ts";
import { createPoolScheduler, type PoolSchedulerDeps } from "../scheduling/pool-scheduler-factory.ts";
import type { PoolScheduling } from "../scheduling/pool-scheduling.ts";
import { type FailurePolicy, failurePolicyFor } from "./failure-policy.ts";

export interface PoolRuntime {
  readonly pool: PoolRecord;
  readonly scheduling: PoolScheduling;
  readonly admitter: PoolAdmitter;
  /** Outlier detection, retried statuses and the no-endpoint wait (failure-policy.ts). */
  readonly failurePolicy: FailurePolicy;
}

type RuntimeEntry = PoolRuntime & {
  fingerprint: string;
  pickerFingerprint: string;
  admissionFingerprint: string;
};

export class PoolRuntimes {
  readonly #datastore: Datastore;
  readonly #flowControlMetrics: FlowControlMetrics | undefined;
  readonly #schedulerDeps: PoolSchedulerDeps;
  readonly #unsubscribe: () => void;
  #runtimes = new Map<string, RuntimeEntry>();

  /** `schedulerDeps`: explanations, plugin timing and prefix-scorer registration for every pool. */
  constructor(
    datastore: Datastore,
    options: { flowControlMetrics?: FlowControlMetrics; schedulerDeps?: PoolSchedulerDeps } = {},
  ) {
    this.#datastore = datastore;
    this.#flowControlMetrics = options.flowControlMetrics;
    this.#schedulerDeps = options.schedulerDeps ?? {};
    this.update(datastore.config);
    // Endpoints appearing (scale from zero) or leaving change capacity: let admitters re-check.
    this.#unsubscribe = datastore.onEndpointsChanged(() => this.notifyAll());
  }

  /** Asks every pool's admitter to dispatch what now fits (endpoint changes, metrics refresh). */
  notifyAll(): void {
    for (const r of this.#runtimes.values()) r.admitter.notify();
  }

  get(poolKey: string): PoolRuntime | undefined {
    return this.#runtimes.get(poolKey);
  }

  /** Rebuilds the runtimes of pools that changed; closes those of pools that went away. */
  update(config: ConfigSnapshot): void {
    const pickerFingerprint = JSON.stringify(config.pickerConfigs.map((p) => p.raw));
    const next = new Map<string, RuntimeEntry>();
    for (const pool of config.pools.values()) {
      const fingerprint = JSON.stringify(pool);
      const old = this.#runtimes.get(pool.key);
      if (old && old.fingerprint === fingerprint && old.pickerFingerprint === pickerFingerprint) {
        next.set(pool.key, old);
        continue;
      }
      const admission = admissionFingerprint(pool, config.pickerConfigs);
      const sameAdmission = old !== undefined && old.admissionFingerprint === admission;
      const admitter = sameAdmission
        ? old.admitter
        : admitterForPool(pool, {
            candidates: () => this.#datastore.candidates(pool.key),
            pickerConfigs: config.pickerConfigs,
            ...(this.#flowControlMetrics && { metrics: this.#flowControlMetrics }),
          });
      if (old && !sameAdmission) old.admitter.close();
      old?.scheduling.close();
      next.set(pool.key, {
        pool,
        scheduling: createPoolScheduler(pool, config.pickerConfigs, this.#schedulerDeps),
        admitter,
        failurePolicy: failurePolicyFor(pool, config.pickerConfigs),
        fingerprint,
        pickerFingerprint,
        admissionFingerprint: admission,
      });
    }
    for (const [key, old] of this.#runtimes) {
      if (next.has(key)) continue;
      old.admitter.close();
      old.scheduling.close();
    }
    this.#runtimes = next;
  }

  /** Closes every admitter and scheduler (gateway shutdown). */
  close(): void {
    this.#unsubscribe();
    for (const r of this.#runtimes.values()) {
      r.admitter.close();
      r.scheduling.close();
    }
    this.#runtimes.clear();
  }
}
