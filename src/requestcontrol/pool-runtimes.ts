/**
 * Per-pool scheduling and admission objects, created through the two factories
 * (createPoolScheduler, admitterForPool) and kept across reloads while the pool (and the
 * picker configs) stay the same.
 */
import type { PoolRecord } from "../api/inference-pool.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { PoolAdmitter } from "../flowcontrol/create-admitter.ts";
import { admitterForPool } from "../flowcontrol/pool-admitter-factory.ts";
import { createPoolScheduler, type PoolSchedulerDeps } from "../scheduling/pool-scheduler-factory.ts";
import type { PoolScheduling } from "../scheduling/pool-scheduling.ts";

export interface PoolRuntime {
  readonly pool: PoolRecord;
  readonly scheduling: PoolScheduling;
  readonly admitter: PoolAdmitter;
}

export class PoolRuntimes {
  readonly #datastore: Datastore;
  readonly #schedulerDeps: PoolSchedulerDeps;
  #runtimes = new Map<string, PoolRuntime & { fingerprint: string; pickerFingerprint: string }>();

  /** `schedulerDeps`: explanations, plugin timing and prefix-scorer registration for every pool. */
  constructor(datastore: Datastore, schedulerDeps: PoolSchedulerDeps = {}) {
    this.#datastore = datastore;
    this.#schedulerDeps = schedulerDeps;
    this.update(datastore.config);
  }

  get(poolKey: string): PoolRuntime | undefined {
    return this.#runtimes.get(poolKey);
  }

  /** Rebuilds the runtimes of pools that changed; closes those of pools that went away. */
  update(config: ConfigSnapshot): void {
    const pickerFingerprint = JSON.stringify(config.pickerConfigs.map((p) => p.raw));
    const next = new Map<string, PoolRuntime & { fingerprint: string; pickerFingerprint: string }>();
    for (const pool of config.pools.values()) {
      const fingerprint = JSON.stringify(pool);
      const old = this.#runtimes.get(pool.key);
      if (old && old.fingerprint === fingerprint && old.pickerFingerprint === pickerFingerprint) {
        next.set(pool.key, old);
        continue;
      }
      const sameAdmission = old !== undefined && old.fingerprint === fingerprint;
      const admitter = sameAdmission
        ? old.admitter
        : admitterForPool(pool, { candidates: () => this.#datastore.candidates(pool.key) });
      if (old && !sameAdmission) old.admitter.close();
      next.set(pool.key, {
        pool,
        scheduling: createPoolScheduler(pool, config.pickerConfigs, this.#schedulerDeps),
        admitter,
        fingerprint,
        pickerFingerprint,
      });
    }
    for (const [key, old] of this.#runtimes) if (!next.has(key)) old.admitter.close();
    this.#runtimes = next;
  }

  /** Closes every admitter (gateway shutdown). */
  close(): void {
    for (const r of this.#runtimes.values()) r.admitter.close();
    this.#runtimes.clear();
  }
}
