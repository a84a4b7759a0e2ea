/**
 * Runs one EndpointScraper per datastore endpoint: started for the endpoints present and every
 * endpoint added later, stopped when an endpoint leaves. Once running, a never-scraped endpoint
 * counts as stale. Scrape failures are logged when they start and when they end, not per scrape.
 */
import type { Datastore } from "../datastore/datastore.ts";
import type { EndpointState } from "../datastore/endpoint-state.ts";
import type { Logger } from "../observability/logger.ts";
import { EndpointScraper } from "./endpoint-scraper.ts";

export interface MetricsCollectorOptions {
  /** Scrape interval per endpoint, ms (default 50). */
  readonly intervalMs?: number;
  /** Scrape timeout, ms (default 1000). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** Called when an endpoint leaves (e.g. to drop it from prefix indexes). */
  readonly onEndpointRemoved?: (endpointId: string) => void;
  /** Called after every scrape attempt (fresh numbers, or one step closer to stale): admitters re-check. */
  readonly onScraped?: () => void;
}

export class MetricsCollector {
  readonly #datastore: Datastore;
  readonly #options: MetricsCollectorOptions;
  readonly #scrapers = new Map<EndpointState, EndpointScraper>();
  readonly #failing = new Set<string>();
  #unsubscribe: (() => void) | undefined;

  constructor(datastore: Datastore, options: MetricsCollectorOptions = {}) {
    this.#datastore = datastore;
    this.#options = options;
  }

  /**
   * Starts scraping every endpoint, now and as they come and go. Resolves when each present
   * endpoint's first scrape attempt ended (at most the scrape timeout), so the gateway can start
   * serving with fresh load numbers.
   */
  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#datastore.setNeverScrapedIsStale(true);
    const first = this.#datastore.endpoints().map((s) => this.#add(s));
    this.#unsubscribe = this.#datastore.onEndpointsChanged(({ added, removed }) => {
      for (const s of removed) this.#remove(s);
      for (const s of added) void this.#add(s);
    });
    await Promise.all(first);
  }

  /** Scrapers running now (one per endpoint with a known engine). */
  get size(): number {
    return this.#scrapers.size;
  }

  /** Stops every scraper and closes their connections. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const all = [...this.#scrapers.values()];
    this.#scrapers.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  /** Starts a scraper for `state`; resolves after its first attempt. */
  #add(state: EndpointState): Promise<void> {
    if (this.#scrapers.has(state)) return Promise.resolve();
    const log = this.#options.logger;
    let scraper: EndpointScraper;
    try {
      scraper = new EndpointScraper(state.endpoint, state, {
        ...(this.#options.intervalMs !== undefined ? { intervalMs: this.#options.intervalMs } : {}),
        ...(this.#options.timeoutMs !== undefined ? { timeoutMs: this.#options.timeoutMs } : {}),
        onScrape: (o) => {
          this.#options.onScraped?.();
          if (!o.ok && !this.#failing.has(o.endpoint)) {
            this.#failing.add(o.endpoint);
            log?.warn(
              { endpoint: o.endpoint, error: o.error },
              `metrics scrape of ${o.endpoint} failing: ${o.error}`,
            );
          } else if (o.ok && this.#failing.delete(o.endpoint)) {
            log?.info({ endpoint: o.endpoint }, `metrics scrape of ${o.endpoint} recovered`);
          }
        },
      });
    } catch (e) {
      // Unknown engine-type label: the endpoint stays never-scraped (stale) and is avoided.
      log?.error({ endpoint: state.endpoint.id }, (e as Error).message);
      return Promise.resolve();
    }
    this.#scrapers.set(state, scraper);
    return scraper.start();
  }

  #remove(state: EndpointState): void {
    const scraper = this.#scrapers.get(state);
    if (scraper === undefined) return;
    this.#scrapers.delete(state);
    this.#failing.delete(state.endpoint.id);
    void scraper.stop();
    this.#options.onEndpointRemoved?.(state.endpoint.id);
  }
}
