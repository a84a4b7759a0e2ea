/** Writes a GatewayError as OpenAI-shaped JSON with its status (and Retry-After when known). */
import type { ServerResponse } from "node:http";
import type { GatewayError } from "../errors.ts";

export function sendError(res: ServerResponse, err: GatewayError, requestId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.toJSON());
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  };
  if (requestId) headers["x-request-id"] = requestId;
  if (err.retryAfterSeconds !== undefined) headers["retry-after"] = Math.ceil(err.retryAfterSeconds);
  res.writeHead(err.status, headers);
  res.end(body);
}
