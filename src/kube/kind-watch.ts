/**
 * One resource kind followed with a client-node informer (`ListWatch`): list, then watch from the
 * list's resourceVersion with bookmarks; a 410 Gone relists. On any other failure (server down,
 * 403, a CRD not installed) it retries with capped exponential back-off and jitter, and a watch
 * that the server closes at once is restarted no sooner than a second later: no busy loop when the
 * server is down or refusing. The last listed objects stay while it retries.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from "@kubernetes/client-node";
import { collectionPath, type WatchedKind } from "./watched-kinds.ts";

export interface KindWatchHandlers {
  /** An object was added, changed or deleted (the cache already holds the change). */
  onChange(): void;
  /** Listing or watching failed; it retries after `retryInMs`. `absent`: the server has no such resource (404). */
  onError(error: Error, retryInMs: number, absent: boolean): void;
}

export interface BackOff {
  /** First retry delay, ms. Default 250. */
  readonly initialMs?: number;
  /** Cap, ms. Default 30000. */
  readonly maxMs?: number;
}

/** A watch the server ends sooner than this after it started is restarted only once this has passed. */
const MIN_WATCH_MS = 1000;

/** setTimeout that does not keep the process alive. */
function unrefTimeout(fn: () => void, ms: number): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}

/** The HTTP status of a client-node error (ApiException `code`, watch `statusCode`), if any. */
export function httpStatusOf(e: unknown): number | undefined {
  const v = e as { code?: unknown; statusCode?: unknown } | null;
  const s = typeof v?.code === "number" ? v.code : v?.statusCode;
  return typeof s === "number" ? s : undefined;
}

/** A Watch that asks for bookmarks and a server-side timeout, and paces restarts of short watches. */
class PacedWatch extends Watch {
  readonly #timers = new Set<NodeJS.Timeout>();

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const started = Date.now();
    const params = {
      ...queryParams,
      allowWatchBookmarks: true,
      // Spread reconnects of many clients, as client-go does (5 to 10 minutes).
      timeoutSeconds: 300 + Math.floor(Math.random() * 300),
    };
    return super.watch(path, params, callback, (err: unknown) => {
      const wait = MIN_WATCH_MS - (Date.now() - started);
      if (err || wait <= 0) return done(err);
      const t = unrefTimeout(() => {
        this.#timers.delete(t);
        done(null);
      }, wait);
      this.#timers.add(t);
    });
  }

  cancel(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export class KindWatch {
  readonly kind: WatchedKind;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #watch: PacedWatch;
  readonly #handlers: KindWatchHandlers;
  readonly #initialMs: number;
  readonly #maxMs: number;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;
  #absent = false;
  #syncWaiters: (() => void)[] = [];

  constructor(
    kubeConfig: KubeConfig,
    kind: WatchedKind,
    namespace: string | undefined,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    handlers: KindWatchHandlers,
    backOff: BackOff = {},
    /** Watch only the objects this selects (e.g. `metadata.name=x`); `list` must apply it too. */
    fieldSelector?: string,
  ) {
    this.kind = kind;
    this.#handlers = handlers;
    this.#initialMs = backOff.initialMs ?? 250;
    this.#maxMs = backOff.maxMs ?? 30_000;
    this.#watch = new PacedWatch(kubeConfig);
    const listed = async () => {
      const result = await list();
      this.#failures = 0;
      this.#absent = false;
      // Once the ListWatch has put the listed objects in its cache (right after this returns).
      setImmediate(() => this.#markSynced());
      return result;
    };
    this.#lw = new ListWatch(
      collectionPath(kind, namespace),
      this.#watch,
      listed,
      false,
      undefined,
      fieldSelector,
    );
    const changed = () => {
      this.#failures = 0;
      handlers.onChange();
    };
    this.#lw.on("add", changed);
    this.#lw.on("update", changed);
    this.#lw.on("delete", changed);
    this.#lw.on("error", (e: unknown) => this.#failed(e));
  }

  /** Starts listing and watching (returns at once). */
  start(): void {
    void this.#lw.start();
  }

  /** Resolves once the first list succeeded, or the server said it has no such resource. */
  synced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** Whether the last list found no such resource on the server (a CRD not installed). */
  get absent(): boolean {
    return this.#absent;
  }

  /** The objects as last listed and watched (empty while absent). */
  objects(): readonly KubernetesObject[] {
    return this.#absent ? [] : this.#lw.list();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#watch.cancel();
    await this.#lw.stop();
    this.#markSynced();
  }

  #failed(e: unknown): void {
    if (this.#stopped) return;
    const absent = httpStatusOf(e) === 404;
    if (absent) {
      this.#absent = true;
      this.#markSynced();
    }
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** this.#failures);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#failures++;
    const error = e instanceof Error ? e : new Error(String(e));
    this.#handlers.onError(error, delay, absent);
    if (absent) this.#handlers.onChange();
    this.#retry = unrefTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#lw.start();
    }, delay);
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }
}
