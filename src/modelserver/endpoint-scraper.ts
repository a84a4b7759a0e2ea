/**
 * Polls one endpoint's `/metrics` about every `intervalMs` (default 50 ms) with a timeout, and writes
 * what it reads into that endpoint's mutable EndpointMetrics record. A failed scrape leaves the record
 * untouched, so its `updatedAt` ages and the datastore marks the endpoint stale.
 *
 * The page is fetched over the proxy's own keep-alive HTTP/1.1 client (proxy/http1), not undici's:
 * a scrape every 50 ms is too rare for V8 to optimise a general client's code, which then cost
 * ~2 ms of CPU per scrape (~40 ms a second per endpoint); the proxy's client is hot already.
 *
 * When the mapping names its samples, the page is asked for with prometheus_client's `?name[]=`
 * filter, so the engine renders and sends only them. A server that does not filter (prometheus_client
 * in multiprocess mode answers an empty page; another exporter may answer 404 or ignore the query)
 * is then scraped whole: the first filtered page it fails on is fetched again unfiltered, and if
 * that one reads, filtering stays off for the endpoint.
 */
import type { Endpoint } from "../datastore/endpoint.ts";
import {
  type UpstreamController,
  UpstreamEndpoint,
  UpstreamError,
  type UpstreamHandler,
} from "../proxy/http1/upstream-client.ts";
import type { EndpointMetrics, InFlight } from "./endpoint-metrics.ts";
import { type EngineMapping, mappingForEndpoint, type ScrapedLoad } from "./engine-mappings.ts";
import { scanPrometheusText } from "./prom-text-scanner.ts";
import { ANSWERED_WINDOW, RecentMax } from "./recent-max.ts";

export interface ScraperOptions {
  /** Time between scrape starts, ms (default 50). */
  intervalMs?: number;
  /** Whole-scrape timeout, ms (default 1000). */
  timeoutMs?: number;
  /** Path of the metrics page (default `/metrics`). */
  path?: string;
  /** Engine mapping; default chosen from the endpoint's engine-type label. */
  mapping?: EngineMapping;
  /** Clock for `updatedAt`, ms since epoch (default Date.now). */
  now?: () => number;
  /** Called after every scrape attempt (for logs and metrics). */
  onScrape?: (outcome: ScrapeOutcome) => void;
}

/** The per-endpoint record a scraper writes (the datastore's EndpointState has this shape). */
export interface ScrapeTarget {
  readonly metrics: EndpointMetrics;
  readonly inFlight: InFlight;
  /** Written after each scrape: true when it could not connect (refused, reset, unreachable). */
  connectRefused?: boolean;
}

/** What one scrape attempt did. */
export interface ScrapeOutcome {
  readonly endpoint: string;
  readonly ok: boolean;
  /** Why it failed (HTTP status, timeout, missing metric...). */
  readonly error?: string;
  readonly durationMs: number;
}

/** One endpoint's scrape loop. Created on endpoint add, stopped on endpoint remove. */
export class EndpointScraper {
  readonly endpoint: Endpoint;
  readonly #record: ScrapeTarget;
  readonly #client: UpstreamEndpoint;
  readonly #mapping: EngineMapping;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #path: string;
  /** The path with the mapping's `name[]` filter; undefined once the server proved not to filter. */
  #filteredPath: string | undefined;
  readonly #now: () => number;
  readonly #onScrape: ((o: ScrapeOutcome) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** Per recent scrape, the in-flight requests it found answered (see answeredAtRecentScrapes). */
  readonly #answered = new RecentMax(ANSWERED_WINDOW);
  /** Successful and failed scrape counts since creation. */
  succeeded = 0;
  failed = 0;
  /** The last failure's reason, cleared by a success. */
  lastError: string | undefined;

  /** `record`: where the load goes (its `metrics` is read at each write, so it may be replaced). */
  constructor(endpoint: Endpoint, record: ScrapeTarget, options: ScraperOptions = {}) {
    this.endpoint = endpoint;
    this.#record = record;
    this.#mapping = options.mapping ?? mappingForEndpoint(endpoint);
    this.#interval = options.intervalMs ?? 50;
    this.#timeout = options.timeoutMs ?? 1000;
    this.#path = options.path ?? "/metrics";
    this.#filteredPath = withNameFilter(this.#path, this.#mapping.sampleNames);
    this.#now = options.now ?? Date.now;
    this.#onScrape = options.onScrape;
    this.#client = new UpstreamEndpoint(endpoint.host, endpoint.port, {
      maxConnections: 1,
      connectTimeoutMs: this.#timeout,
      idleTimeoutMs: 30_000,
    });
  }

  /** Starts polling (first scrape at once); resolves when that first attempt ended. Idempotent. */
  start(): Promise<void> {
    if (!this.#stopped) return Promise.resolve();
    this.#stopped = false;
    this.#loop();
    return this.#running ?? Promise.resolve();
  }

  /** Stops polling and closes the connection; resolves when an in-progress scrape has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    this.#client.close();
  }

  #loop(): void {
    if (this.#stopped) return;
    const started = performance.now();
    this.#running = this.scrapeOnce().then(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      const wait = Math.max(0, this.#interval - (performance.now() - started));
      this.#timer = setTimeout(() => this.#loop(), wait);
      this.#timer.unref();
    });
  }

  /** One scrape: fetch, scan, map, write. Never throws; the outcome goes to onScrape and the counters. */
  async scrapeOnce(): Promise<ScrapeOutcome> {
    const started = performance.now();
    const requestsAtStart = this.#record.inFlight.requests;
    let error: string | undefined;
    let refused = false;
    try {
      const load = await this.#load();
      const m = this.#record.metrics;
      m.waiting = load.waiting;
      m.running = load.running;
      m.kvCacheUsage = load.kvCacheUsage;
      m.activeAdapters = load.activeAdapters;
      m.waitingAdapters = load.waitingAdapters;
      m.maxActiveAdapters = load.maxActiveAdapters;
      if (load.blockSize !== undefined) m.blockSize = load.blockSize;
      if (load.numGpuBlocks !== undefined) m.numGpuBlocks = load.numGpuBlocks;
      m.counters = load.counters;
      m.inFlightRequestsAtScrape = requestsAtStart;
      m.answeredAtRecentScrapes = this.#answered.record(requestsAtStart - load.running - load.waiting);
      m.updatedAt = this.#now();
    } catch (e) {
      error = describe(e, this.#timeout);
      // No connection, or it broke: the endpoint takes none (as opposed to answering badly or slowly).
      refused = e instanceof UpstreamError && (e.code === "connect" || e.code === "reset");
    }
    this.#record.connectRefused = refused;
    const outcome: ScrapeOutcome = {
      endpoint: this.endpoint.id,
      ok: error === undefined,
      ...(error === undefined ? {} : { error }),
      durationMs: performance.now() - started,
    };
    if (error === undefined) {
      this.succeeded++;
      this.lastError = undefined;
    } else {
      this.failed++;
      this.lastError = error;
    }
    this.#onScrape?.(outcome);
    return outcome;
  }

  /** The load from the filtered page, or from the whole page when the server does not filter. */
  async #load(): Promise<ScrapedLoad> {
    const filtered = this.#filteredPath;
    if (filtered === undefined) return this.#fetchLoad(this.#path);
    try {
      return await this.#fetchLoad(filtered);
    } catch (e) {
      if (!(e instanceof PageRejected)) throw e;
      const load = await this.#fetchLoad(this.#path);
      this.#filteredPath = undefined;
      return load;
    }
  }

  /** GET `path`, scan and map it; a 4xx answer or a page the mapping cannot read is a PageRejected. */
  async #fetchLoad(path: string): Promise<ScrapedLoad> {
    const res = await new Promise<PageAnswer>((resolve, reject) => {
      const page = new PageRequest(resolve, reject, this.#timeout);
      this.#client.dispatch({ path, method: "GET", headers: {}, body: NO_BODY }, page);
    });
    if (res.status !== 200) {
      const message = `GET ${this.#path} returned HTTP ${res.status}`;
      throw res.status >= 400 && res.status < 500 ? new PageRejected(message) : new Error(message);
    }
    try {
      // No mapping reads histogram buckets (only `_sum`/`_count`), so they are not scanned.
      return this.#mapping.extract(scanPrometheusText(res.text, this.#mapping.families, { buckets: false }));
    } catch (e) {
      throw new PageRejected((e as Error).message);
    }
  }
}

/** The server answered, but not with a page the mapping can read (so the `name[]` filter may be at fault). */
class PageRejected extends Error {}

/** `path` with prometheus_client's `name[]=<sample>` query, one per name; undefined without names. */
function withNameFilter(path: string, names: readonly string[] | undefined): string | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const query = names.map((n) => `name%5B%5D=${encodeURIComponent(n)}`).join("&");
  return `${path}${path.includes("?") ? "&" : "?"}${query}`;
}

const NO_BODY = Buffer.alloc(0);
/** The most of a metrics page a scrape reads (a vLLM page is ~30 KB, ~2 KB filtered). */
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

interface PageAnswer {
  readonly status: number;
  readonly text: string;
}

/** One GET of the metrics page: collects the body, aborts at the scrape timeout. */
class PageRequest implements UpstreamHandler {
  readonly #resolve: (answer: PageAnswer) => void;
  readonly #reject: (e: Error) => void;
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #status = 0;
  #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(resolve: (answer: PageAnswer) => void, reject: (e: Error) => void, timeoutMs: number) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timeoutMs = timeoutMs;
  }

  onRequestStart(controller: UpstreamController): void {
    this.#timer = setTimeout(() => {
      const e = new Error(`scrape timed out after ${this.#timeoutMs} ms`);
      e.name = "TimeoutError";
      controller.abort(e);
    }, this.#timeoutMs);
  }

  onResponseStart(_c: UpstreamController, status: number): void {
    this.#status = status;
  }

  onResponseData(c: UpstreamController, chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#bytes > MAX_PAGE_BYTES) {
      // A page this large is no engine's: stop reading it rather than hold it.
      c.abort(new Error(`metrics page larger than ${MAX_PAGE_BYTES / (1024 * 1024)} MiB`));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    clearTimeout(this.#timer);
    const chunks = this.#chunks;
    this.#chunks = [];
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.#resolve({ status: this.#status, text: body.toString("utf8") });
  }

  onResponseError(_c: UpstreamController, error: Error): void {
    clearTimeout(this.#timer);
    this.#chunks = [];
    this.#reject(error);
  }
}

function describe(e: unknown, timeoutMs: number): string {
  if (e instanceof Error) {
    if (e.name === "TimeoutError") return `scrape timed out after ${timeoutMs} ms`;
    if (e instanceof UpstreamError) return e.message;
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
