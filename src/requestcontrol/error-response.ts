/**
 * Outcome → wire mapping, shared by every adapter: a GatewayError (or any other error, as an
 * internal one) rendered as status, headers and OpenAI-shaped JSON, with `Retry-After` when the
 * error knows when to come back.
 */
import { GatewayError } from "../errors.ts";
import type { ErrorResponse } from "./decision.ts";

/** Any thrown value as a GatewayError (unknown errors become `internal`, message not leaked). */
export function asGatewayError(e: unknown): GatewayError {
  return e instanceof GatewayError ? e : new GatewayError("internal", "internal gateway error");
}

/** The response a client gets for `err`; `requestId` is echoed in `x-request-id`. */
export function errorResponse(err: GatewayError, requestId?: string): ErrorResponse {
  const body = JSON.stringify(err.toJSON());
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
  };
  if (requestId) headers["x-request-id"] = requestId;
  if (err.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.ceil(err.retryAfterSeconds));
  return { status: err.status, headers, body };
}
