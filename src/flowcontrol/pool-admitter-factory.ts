/**
 * The one place that decides which Admitter a pool gets. The director calls it whenever a pool
 * appears or changes, and calls `close()` (when present) on the one it replaces. Today every pool
 * is pass-through; the flow-control module replaces this body (pool.useQueueing).
 */
import type { PoolRecord } from "../api/inference-pool.ts";
import type { Candidate } from "../scheduling/types.ts";
import { PassThroughAdmitter } from "./pass-through-admitter.ts";
import type { Admitter } from "./types.ts";

/** What an admitter may read: the pool's live candidates (for saturation). */
export interface AdmitterDeps {
  readonly candidates: () => readonly Candidate[];
}

/** An Admitter that may hold timers; `close()` releases them and fails what is still queued. */
export type PoolAdmitter = Admitter & { close?(): void };

export function createPoolAdmitter(_pool: PoolRecord, _deps: AdmitterDeps): PoolAdmitter {
  return new PassThroughAdmitter();
}
