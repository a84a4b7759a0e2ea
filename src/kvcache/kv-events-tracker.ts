/**
 * The KV-event view of every endpoint of a pool: one KvEventsSubscriber per endpoint (opened the
 * first time the endpoint is watched), its ResidentBlocks, and whether its events can be trusted now.
 *
 * Events are sent only when a server's cache changes, so silence alone means nothing (an idle server
 * publishes nothing). An endpoint's events count as stopped when the gateway sent it work and no
 * batch arrived for staleAfterMs since; the first batch after that makes them live again. A
 * sequence gap the server could not replay keeps the blocks (a block wrongly believed held is
 * stored again, and so corrected, the first time a request needs it); a publisher restart (the
 * sequence starts over) means the server's cache started empty, so the blocks are cleared.
 *
 * Blocks the gateway just sent to an endpoint count as held there until its events confirm them
 * (speculative-blocks.ts): a server publishes BlockStored only once it computed the prompt.
 */
import { KvEventsSubscriber, type KvEventsSubscriberOptions } from "./kv-events-subscriber.ts";
import { ResidentBlocks } from "./resident-blocks.ts";
import { SpeculativeBlocks } from "./speculative-blocks.ts";

/** Where an endpoint publishes: its PUB endpoint and, if any, its replay (ROUTER) endpoint. */
export interface KvEventsSource {
  readonly endpoint: string;
  readonly replayEndpoint: string | null;
}

export interface KvEventsTrackerOptions {
  /** The source of an endpoint (`host:port` id and host). */
  sourceFor(endpointId: string, host: string): KvEventsSource;
  /** Subscription topic prefix ("" = all, vLLM's default topic). */
  readonly topic: string;
  readonly maxBlocksPerEndpoint: number;
  readonly staleAfterMs: number;
  /** How long blocks sent to an endpoint count as held before its events confirm them (ms). */
  readonly speculativeTtlMs: number;
  /** Milliseconds clock (default performance.now). */
  readonly now?: () => number;
  /**
   * Opens one endpoint's subscription (default: a KvEventsSubscriber, ZMQ); a benchmark on a virtual
   * clock hands its simulated engines' batches straight to the handlers instead.
   */
  readonly connect?: (endpointId: string, options: KvEventsSubscriberOptions) => { close(): void };
  /** A bad message or a lost range, for the log; the tracker keeps going. */
  onProblem?(endpointId: string, message: string): void;
}

interface Watched {
  readonly blocks: ResidentBlocks;
  /** null when the socket could not be created (then failedAt is set). */
  readonly subscriber: { close(): void } | null;
  readonly failedAt: number | undefined;
  /** When work was first sent with no batch since; undefined = none pending. */
  pendingSince: number | undefined;
  batches: number;
  /** Blocks sent and not yet confirmed; created on the first dispatch. */
  speculative: SpeculativeBlocks | undefined;
}

/** What a closed tracker answers: nothing held. */
const NONE = new ResidentBlocks(0);

export class KvEventsTracker {
  readonly #o: KvEventsTrackerOptions;
  readonly #now: () => number;
  readonly #watched = new Map<string, Watched>();
  #closed = false;

  constructor(options: KvEventsTrackerOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The endpoint's resident blocks; subscribes on first use (after close(): none, never live). */
  watch(endpointId: string, host: string): ResidentBlocks {
    let w = this.#watched.get(endpointId);
    if (w !== undefined && w.failedAt !== undefined && this.#now() - w.failedAt >= this.#o.staleAfterMs) {
      this.#watched.delete(endpointId);
      w = undefined;
    }
    if (w === undefined) {
      if (this.#closed) return NONE;
      w = this.#subscribe(endpointId, host);
    }
    return w.blocks;
  }

  /** Whether the endpoint's events are flowing (see the module comment); false when not watched. */
  live(endpointId: string): boolean {
    const w = this.#watched.get(endpointId);
    return w !== undefined && this.#live(w, this.#now());
  }

  #live(w: Watched, now: number): boolean {
    if (w.subscriber === null) return false;
    return w.pendingSince === undefined || now - w.pendingSince < this.#o.staleAfterMs;
  }

  /**
   * How many of `keys`, from the first, the endpoint holds or was sent and has not confirmed yet;
   * null when its events are not live. Subscribes on first use. `now`: this tracker's clock, read once
   * per decision by the caller (nowMs()).
   */
  held(endpointId: string, host: string, keys: readonly number[], now: number): number | null {
    let w = this.#watched.get(endpointId);
    if (w === undefined || w.failedAt !== undefined) {
      this.watch(endpointId, host);
      w = this.#watched.get(endpointId);
      if (w === undefined) return null;
    }
    if (!this.#live(w, now)) return null;
    return w.speculative === undefined
      ? w.blocks.leadingHeld(keys)
      : w.speculative.leadingHeld(keys, w.blocks, now);
  }

  /** This tracker's clock (ms), for held(). */
  nowMs(): number {
    return this.#now();
  }

  /** The gateway sent the endpoint a request with these block keys: events should follow. */
  dispatched(endpointId: string, keys: readonly number[] = []): void {
    const w = this.#watched.get(endpointId);
    if (w === undefined) return;
    const now = this.#now();
    if (w.pendingSince === undefined) w.pendingSince = now;
    if (keys.length === 0 || this.#o.speculativeTtlMs === 0) return;
    w.speculative ??= new SpeculativeBlocks(this.#o.speculativeTtlMs, this.#o.maxBlocksPerEndpoint);
    w.speculative.add(keys, now);
  }

  /** Batches received from the endpoint so far. */
  batches(endpointId: string): number {
    return this.#watched.get(endpointId)?.batches ?? 0;
  }

  /** Resident blocks over every watched endpoint. */
  get totalBlocks(): number {
    let n = 0;
    for (const w of this.#watched.values()) n += w.blocks.size;
    return n;
  }

  /** Stops watching an endpoint (it left the pool). */
  remove(endpointId: string): void {
    const w = this.#watched.get(endpointId);
    if (w === undefined) return;
    this.#watched.delete(endpointId);
    w.subscriber?.close();
  }

  /** Closes every subscription; later watches subscribe to nothing. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#watched.keys()]) this.remove(id);
  }

  #subscribe(endpointId: string, host: string): Watched {
    const source = this.#o.sourceFor(endpointId, host);
    const blocks = new ResidentBlocks(this.#o.maxBlocksPerEndpoint);
    const problem = (m: string) => this.#o.onProblem?.(endpointId, m);
    let w: Watched | undefined;
    let subscriber: { close(): void } | null = null;
    const connect = this.#o.connect ?? ((_id, o) => new KvEventsSubscriber(o));
    try {
      subscriber = connect(endpointId, {
        endpoint: source.endpoint,
        replayEndpoint: source.replayEndpoint,
        topic: this.#o.topic,
        onBatch: (batch) => {
          blocks.apply(batch);
          if (w !== undefined) {
            w.batches++;
            w.pendingSince = undefined;
          }
        },
        onGap: (from, to) => {
          if (to < from) {
            blocks.clear();
            problem(
              `kv events from ${source.endpoint} started over (server restarted); its blocks were cleared`,
            );
          } else problem(`kv events ${from}..${to} from ${source.endpoint} were lost`);
        },
        onError: (e) => problem(e.message),
      });
    } catch (e) {
      // No socket (too many open files, a bad endpoint): never live, so the approximate index
      // scores it; tried again after staleAfterMs.
      problem(`cannot subscribe to ${source.endpoint}: ${(e as Error).message}`);
    }
    w = {
      blocks,
      subscriber,
      pendingSince: undefined,
      batches: 0,
      speculative: undefined,
      failedAt: subscriber ? undefined : this.#now(),
    };
    this.#watched.set(endpointId, w);
    return w;
  }
}
