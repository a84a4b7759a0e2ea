/**
 * The one place the director gets a pool's Admitter from; called whenever a pool appears or
 * changes (the replaced one is closed). Today every pool is pass-through: the flow-control
 * admitters of create-admitter.ts count never-scraped endpoints as full, so they are wired here
 * once the metrics scraper runs (pool.useQueueing selects queueing then).
 */
import type { PoolRecord } from "../api/inference-pool.ts";
import type { Candidate } from "../scheduling/types.ts";
import type { PoolAdmitter } from "./create-admitter.ts";
import { PassThroughAdmitter } from "./pass-through-admitter.ts";

/** What an admitter may read: the pool's live candidates (for saturation). */
export interface AdmitterDeps {
  readonly candidates: () => readonly Candidate[];
}

export function admitterForPool(_pool: PoolRecord, _deps: AdmitterDeps): PoolAdmitter {
  return Object.assign(new PassThroughAdmitter(), { close(): void {} });
}
