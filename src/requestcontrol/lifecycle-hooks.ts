/**
 * Named lifecycle hooks of a request, in the manner of fastify's: every stage of an exchange
 * announces itself here, and metrics, logs and the dashboard subscribe. In order:
 *
 *   received → routed → [queued] → admitted → scheduled → attempt (per endpoint tried)
 *            → firstToken → responseDone → end          (error: whenever the exchange fails)
 *
 * `end` fires exactly once per exchange, whatever happened before; `error` at most once, before
 * `end`. Subscribers run synchronously on the request path: they must be cheap and must not throw
 * (a throwing subscriber is unsubscribed and reported once, so it cannot break requests).
 */
import type { ExchangeView } from "./exchange-view.ts";

/** The hook names, in lifecycle order. */
export const HOOK_NAMES = [
  "received",
  "routed",
  "queued",
  "admitted",
  "scheduled",
  "attempt",
  "firstToken",
  "responseDone",
  "error",
  "end",
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

/** A subscriber: gets the exchange's read-only view (read what you need now; it keeps changing). */
export type HookListener = (exchange: ExchangeView) => void;

/** The hook table of one director. */
export class LifecycleHooks {
  readonly #listeners: Record<HookName, HookListener[]>;
  readonly #onListenerError: (hook: HookName, error: unknown) => void;

  /** `onListenerError`: told once when a subscriber throws (it is then removed). */
  constructor(onListenerError: (hook: HookName, error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
    const listeners = {} as Record<HookName, HookListener[]>;
    for (const name of HOOK_NAMES) listeners[name] = [];
    this.#listeners = listeners;
  }

  /** Subscribes to one hook; returns the unsubscribe function. */
  on(hook: HookName, listener: HookListener): () => void {
    this.#listeners[hook] = [...this.#listeners[hook], listener];
    return () => {
      this.#listeners[hook] = this.#listeners[hook].filter((l) => l !== listener);
    };
  }

  /** True when someone listens (lets the caller skip building what only listeners need). */
  has(hook: HookName): boolean {
    return this.#listeners[hook].length > 0;
  }

  /** Runs the hook's subscribers in subscription order. Called by the exchange only. */
  emit(hook: HookName, exchange: ExchangeView): void {
    const list = this.#listeners[hook];
    for (let i = 0; i < list.length; i++) {
      const listener = list[i]!;
      try {
        listener(exchange);
      } catch (e) {
        this.#listeners[hook] = this.#listeners[hook].filter((l) => l !== listener);
        this.#onListenerError(hook, e);
      }
    }
  }
}
