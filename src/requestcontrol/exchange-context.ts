/**
 * What a director shares with the exchanges it begins: the datastore, the hook table, the per-pool
 * runtimes and the stage functions that need the current configuration. Internal to requestcontrol/.
 */
import type { Logger } from "pino";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { Timers } from "../timers.ts";
import type { LifecycleHooks } from "./lifecycle-hooks.ts";
import type { OutlierDetector } from "./outlier-detector.ts";
import type { ParsedRequest } from "./parse-request.ts";
import type { PoolRuntime } from "./pool-runtimes.ts";

export interface ExchangeContext {
  readonly datastore: Datastore;
  readonly hooks: LifecycleHooks;
  /** Endpoints tried per request, the first included (>= 1). */
  readonly maxAttempts: number;
  /** Send the scheduler's explanation to the client in DECISION_HEADER. */
  readonly explainHeader: boolean;
  /** Weighted draws (backends, target models). */
  readonly random: () => number;
  /** Endpoint reachability changes are logged here. */
  readonly logger: Logger | undefined;
  /** Timers of the no-endpoint TTL (no-endpoint-expiry.ts). */
  readonly timers: Timers;
  /** Told the result of every attempt (ejects endpoints that keep failing). */
  readonly outliers: OutlierDetector;
  /** Monotonic milliseconds (performance.now() unless a test injects a clock). */
  now(): number;
  /** Stage "route" for listener entries; throws GatewayError (404 no route / unknown model). */
  route(
    config: ConfigSnapshot,
    parsed: ParsedRequest,
    listenerKeys: readonly string[],
  ): { poolKey: string; timeoutMs: number | undefined };
  runtime(poolKey: string): PoolRuntime | undefined;
  /** True when the pool's servers reported serving `model` (a passthrough name safe as a label). */
  servesModel(poolKey: string, model: string): boolean;
  /** One scheduling decision took `seconds`; `picked` false when none was found. */
  observeDecision(seconds: number, picked: boolean): void;
}
