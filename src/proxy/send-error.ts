/** Writes an exchange's ErrorResponse (status, headers, OpenAI JSON) unless a response already started. */
import type { ErrorResponse } from "../requestcontrol/decision.ts";
import type { Http1Reply } from "./http1/server.ts";

export function writeErrorResponse(res: Http1Reply, err: ErrorResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  res.writeHead(err.status, err.headers);
  res.end(err.body);
}
