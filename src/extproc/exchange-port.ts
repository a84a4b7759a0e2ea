/**
 * What the ext_proc adapter needs from the core: one request as a transport-neutral exchange. This
 * mirrors the director's exchange (issue 9, `src/requestcontrol/exchange.ts`); binding the real one
 * is a thin wrapper. The adapter calls, in order: `decide` once, `attempt` per endpoint Envoy is
 * sent to, `responseStarted`, `responseChunk`* and `responseEnd`, and `end` on every path.
 */
import type { GatewayError } from "../errors.ts";

/** The request as Envoy saw it: pseudo-headers turned into method and url. */
export interface InboundRequest {
  readonly method: string;
  /** `:path` (path and query). */
  readonly url: string;
  /** Lower-cased names, one value each (`host` from `:authority`); control headers included. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Where the request goes: decided by the core, serializable. */
export interface Decision {
  readonly requestId: string;
  readonly poolKey: string;
  /** `ip:port`, the target first, then fallbacks. Never empty. */
  readonly endpoints: readonly string[];
  /** The rewritten body (model rewritten to its target); undefined = unchanged. */
  readonly body?: Buffer;
  /** Headers to set on the upstream request. */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Headers to remove from the upstream request. */
  readonly removeHeaders: readonly string[];
  /** Whole-request timeout, ms; undefined = none. */
  readonly timeoutMs?: number;
  readonly priority: number;
  readonly clientModel: string;
  readonly targetModel: string;
  readonly stream: boolean;
}

/** How an exchange ended, as the adapter saw it. */
export type ExchangeOutcome =
  /** The upstream answered and its body ended (any status). */
  | { readonly kind: "completed"; readonly status: number }
  /** `decide` rejected: the client got this error. */
  | { readonly kind: "refused"; readonly error: GatewayError }
  /** Envoy reset the stream (the client went away, or Envoy gave up). */
  | { readonly kind: "aborted"; readonly reason: string }
  /** Envoy closed the stream before the upstream answered. */
  | { readonly kind: "failed"; readonly reason: string };

/** One request in the core. Every method is idempotent; `end` releases in-flight exactly once. */
export interface ExchangePort {
  /** parse → resolve → admit (may wait in the queue; `signal` leaves it) → schedule. Rejects with GatewayError. */
  decide(signal: AbortSignal): Promise<Decision>;
  /** Envoy sends the request to this endpoint (`ip:port`). */
  attempt(endpoint: string): void;
  /** The upstream's status and headers (lower-cased, no pseudo-headers) → the headers to send on. */
  responseStarted(status: number, headers: Readonly<Record<string, string>>): Record<string, string>;
  /** One upstream body chunk → the bytes to send on now (possibly empty). */
  responseChunk(chunk: Buffer): Buffer;
  /** The upstream body ended → bytes still held. */
  responseEnd(): Buffer;
  end(outcome: ExchangeOutcome): void;
}

/** Starts an exchange for a request Envoy already routed to our pool; `subset`: Envoy's subset hint. */
export type BeginExchange = (inbound: InboundRequest, subset: readonly string[] | undefined) => ExchangePort;
