/**
 * The one table of gateway error kinds. Every stage throws a GatewayError with one of these kinds;
 * the adapters (proxy, ext_proc) map it once to an HTTP status and OpenAI-shaped JSON:
 * `{"error":{"message","type","param","code"}}`.
 */
export const ErrorKinds = {
  invalidJson: { status: 400, type: "invalid_request_error", code: "invalid_json" },
  invalidRequest: { status: 400, type: "invalid_request_error", code: "invalid_request" },
  tooComplex: { status: 400, type: "invalid_request_error", code: "request_too_complex" },
  noRoute: { status: 404, type: "invalid_request_error", code: "route_not_found" },
  modelNotFound: { status: 404, type: "invalid_request_error", code: "model_not_found" },
  methodNotAllowed: { status: 405, type: "invalid_request_error", code: "method_not_allowed" },
  requestTimeout: { status: 408, type: "invalid_request_error", code: "request_timeout" },
  payloadTooLarge: { status: 413, type: "invalid_request_error", code: "payload_too_large" },
  shed: { status: 429, type: "rate_limit_error", code: "request_shed" },
  queueFull: { status: 429, type: "rate_limit_error", code: "queue_full" },
  noEndpoint: { status: 503, type: "service_unavailable_error", code: "no_ready_endpoint" },
  queueTimeout: { status: 503, type: "service_unavailable_error", code: "queue_timeout" },
  upstreamFailure: { status: 502, type: "upstream_error", code: "upstream_failure" },
  upstreamTimeout: { status: 504, type: "upstream_error", code: "upstream_timeout" },
  internal: { status: 500, type: "internal_error", code: "internal_error" },
} as const;

export type ErrorKind = keyof typeof ErrorKinds;

/** An error a client should see: kind decides status and code; message says what to do. */
export class GatewayError extends Error {
  readonly kind: ErrorKind;
  readonly param: string | null;
  /** Seconds for a `Retry-After` header (429/503), when known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ErrorKind, message: string, options?: { param?: string; retryAfterSeconds?: number }) {
    super(message);
    this.name = "GatewayError";
    this.kind = kind;
    this.param = options?.param ?? null;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get status(): number {
    return ErrorKinds[this.kind].status;
  }

  /** The OpenAI-shaped body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    const k = ErrorKinds[this.kind];
    return { error: { message: this.message, type: k.type, param: this.param, code: k.code } };
  }
}

/** At most 200 characters of a client-supplied value (a model name, a path), for an error message. */
export function clip(value: string): string {
  return value.length <= 200 ? value : `${value.slice(0, 200)}… (${value.length} characters)`;
}
