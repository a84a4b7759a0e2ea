/**
 * One undici Pool (HTTP/1.1 keep-alive) per endpoint, created on first use and closed when the
 * datastore removes the endpoint.
 */
import { Pool } from "undici";
import type { Datastore } from "../datastore/datastore.ts";

export interface UpstreamPoolOptions {
  /** Max connections per endpoint. Default 1024. */
  readonly connections?: number;
  /** TCP connect timeout, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
}

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #options: UpstreamPoolOptions;
  readonly #unsubscribe: () => void;

  constructor(datastore: Datastore, options: UpstreamPoolOptions = {}) {
    this.#options = options;
    this.#unsubscribe = datastore.onEndpointsChanged(({ removed }) => {
      for (const s of removed) this.#drop(s.endpoint.id);
    });
  }

  /** The pool for an endpoint, by its id `host:port` (`[v6]:port`), created on first use. */
  get(endpointId: string): Pool {
    let pool = this.#pools.get(endpointId);
    if (!pool) {
      pool = new Pool(`http://${endpointId}`, {
        connections: this.#options.connections ?? 1024,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: { timeout: this.#options.connectTimeoutMs ?? 5000 },
      });
      this.#pools.set(endpointId, pool);
    }
    return pool;
  }

  #drop(id: string): void {
    const pool = this.#pools.get(id);
    if (!pool) return;
    this.#pools.delete(id);
    pool.close().catch(() => pool.destroy());
  }

  /** Destroys every pool (in-flight requests fail). */
  async close(): Promise<void> {
    this.#unsubscribe();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}
