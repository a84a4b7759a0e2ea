/**
 * The bound on waiting for a pool that has no endpoint (scaled to zero, or a selector that matches
 * nothing). A request that arrives while its pool is empty may queue (flow control holds it until
 * an endpoint joins and has room), but if the pool is still empty when the pool's no-endpoint TTL
 * is up, its admission is cancelled and it fails with 503 `no_ready_endpoint`, saying why. The
 * expiry is the signal the admitter watches: the client leaving cancels it too.
 */
import { type AbortLike, Cancellation } from "../cancellation.ts";
import type { Datastore } from "../datastore/datastore.ts";
import { GatewayError } from "../errors.ts";
import type { Timers } from "../timers.ts";

export class NoEndpointExpiry extends Cancellation {
  readonly #datastore: Datastore;
  readonly #poolKey: string;
  readonly #ttlMs: number;
  readonly #timers: Timers;
  readonly #client: AbortLike | undefined;
  #timer: unknown;
  #expired = false;

  /** Starts the TTL of one request to `poolKey` (empty now); `client`: its own abort signal. */
  constructor(
    datastore: Datastore,
    poolKey: string,
    ttlMs: number,
    client: AbortLike | undefined,
    timers: Timers,
  ) {
    super();
    this.#datastore = datastore;
    this.#poolKey = poolKey;
    this.#ttlMs = ttlMs;
    this.#timers = timers;
    this.#client = client;
    if (client?.aborted) this.abort();
    client?.addEventListener("abort", this.#onClientAbort, { once: true });
    if (ttlMs <= 0) this.#expire();
    else this.#timer = timers.setTimeout(() => this.#check(), ttlMs);
  }

  /** True when the TTL ran out with the pool still empty: throw error(), not the admitter's. */
  get expired(): boolean {
    return this.#expired;
  }

  /** The 503 for an expired wait. */
  error(): GatewayError {
    const what = this.#ttlMs <= 0 ? "its noEndpointTTL is 0" : `none joined within ${seconds(this.#ttlMs)}`;
    return new GatewayError("noEndpoint", `${noEndpointMessage(this.#datastore, this.#poolKey)}: ${what}`, {
      retryAfterSeconds: 1,
    });
  }

  /** The request was admitted or refused: stop the timer and the client listener. */
  dispose(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#client?.removeEventListener("abort", this.#onClientAbort);
  }

  readonly #onClientAbort = (): void => this.abort();

  #check(): void {
    this.#timer = undefined;
    if (this.#datastore.poolEndpoints(this.#poolKey).length === 0) this.#expire();
  }

  #expire(): void {
    this.#expired = true;
    this.abort();
  }
}

/** "InferencePool ns/name has no endpoint (no model server carries its selector labels k=v)". */
export function noEndpointMessage(datastore: Datastore, poolKey: string): string {
  const pool = datastore.config.pools.get(poolKey);
  const selector = pool
    ? Object.entries(pool.selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")
    : "";
  return `InferencePool ${poolKey} has no endpoint (no model server carries its selector labels ${selector})`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
