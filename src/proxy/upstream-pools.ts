/**
 * The keep-alive connections of every endpoint (one UpstreamEndpoint per `host:port`), created on
 * first use and closed when the datastore removes the endpoint.
 */
import type { Datastore } from "../datastore/datastore.ts";
import { UpstreamEndpoint, type UpstreamEndpointOptions } from "./http1/upstream-client.ts";

const ID = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/;

export class UpstreamPools {
  readonly #pools = new Map<string, UpstreamEndpoint>();
  readonly #options: UpstreamEndpointOptions;
  readonly #unsubscribe: () => void;

  constructor(datastore: Datastore, options: UpstreamEndpointOptions = {}) {
    this.#options = options;
    this.#unsubscribe = datastore.onEndpointsChanged(({ removed }) => {
      for (const s of removed) this.#drop(s.endpoint.id);
    });
  }

  /** The connections of an endpoint, by its id `host:port` (`[v6]:port`), created on first use. */
  get(endpointId: string): UpstreamEndpoint {
    let pool = this.#pools.get(endpointId);
    if (!pool) {
      const m = ID.exec(endpointId);
      if (!m) throw new Error(`not an endpoint id: ${endpointId}`);
      pool = new UpstreamEndpoint(m[1] ?? m[2]!, Number(m[3]), this.#options);
      this.#pools.set(endpointId, pool);
    }
    return pool;
  }

  #drop(id: string): void {
    const pool = this.#pools.get(id);
    if (!pool) return;
    this.#pools.delete(id);
    pool.close();
  }

  /** Closes every endpoint's connections (in-flight requests fail). */
  close(): void {
    this.#unsubscribe();
    for (const pool of this.#pools.values()) pool.destroy();
    this.#pools.clear();
  }
}
