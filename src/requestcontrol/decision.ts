/**
 * The contract between the core and its adapters: where a request enters, what the core decided,
 * and what the adapter reports back. Plain, serializable data only (no live objects cross it), so
 * an exchange could be driven from another thread over a MessagePort.
 */
import type { DecisionExplanation } from "../scheduling/types.ts";

/** Where a request enters the core. */
export type ExchangeEntry =
  /** The proxy: the request arrived on these listeners and is routed by HTTPRoute first. */
  | { readonly kind: "listeners"; readonly listenerKeys: readonly string[] }
  /**
   * ext_proc: the data plane already routed the request to this pool. `subset`: only these
   * endpoints (`host:port`) may be picked (Envoy's `envoy.lb.subset_hint`).
   */
  | { readonly kind: "pool"; readonly poolKey: string; readonly subset?: readonly string[] };

/** The request head as the adapter received it (the body follows in decide()). Names lower-cased. */
export interface InboundRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** What the stages up to scheduling decided. */
export interface Decision {
  readonly requestId: string;
  readonly poolKey: string;
  /** Path and query to send upstream, as received. */
  readonly url: string;
  /** Endpoints to try (`host:port`), the target first, then fallbacks in order. Never empty. */
  readonly endpoints: readonly string[];
  /** The body to send upstream; the received body when neither `model` nor `priority` was rewritten. */
  readonly body: Buffer;
  /** True when `body` differs from the received body (content-length changes). */
  readonly bodyRewritten: boolean;
  /** Upstream request headers to set (request id, model name header). */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Received headers to remove before sending upstream (client-supplied control headers). */
  readonly removeHeaders: readonly string[];
  /** Whole-request timeout in ms (HTTPRoute / BackendTrafficPolicy); undefined = none. */
  readonly timeoutMs: number | undefined;
  /** Higher is more important: Critical 1, Standard 0, Sheddable -1, or the objective's. */
  readonly priority: number;
  readonly clientModel: string;
  readonly targetModel: string;
  readonly stream: boolean;
  /** Why the scheduler chose the target (only when explanations are on). */
  readonly explanation: DecisionExplanation | undefined;
}

/** The response head to send the client: the engine's status, and header changes to its headers. */
export interface ResponseHead {
  readonly status: number;
  /** Headers to add or replace (request id, served endpoint, session token, decision). */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Engine headers to drop (content-length when the body is rewritten). */
  readonly removeHeaders: readonly string[];
}

/** What the adapter should do with an engine's response. */
export type ResponseAction =
  /** Send it: apply `head` and relay the body through responseChunk/responseEnd. */
  | { readonly kind: "relay"; readonly head: ResponseHead }
  /** Drop it (read and discard the body), then call attemptFailed: another endpoint will be tried. */
  | { readonly kind: "retry" };

/** Why an attempt produced no usable response. */
export type AttemptFailure =
  /** The connection failed or was reset before a response (`code`: ECONNREFUSED, UND_ERR_SOCKET…). */
  | { readonly kind: "connect"; readonly reason: string }
  /** The engine answered a status responseStarted chose to retry. */
  | { readonly kind: "status"; readonly status: number }
  /** The request could not be sent for another reason (not retried). */
  | { readonly kind: "error"; readonly reason: string };

/** A gateway error rendered for the wire: status, headers and the OpenAI-shaped JSON body. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
