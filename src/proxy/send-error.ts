/** Writes an exchange's ErrorResponse (status, headers, OpenAI JSON) unless a response already started. */
import type { ServerResponse } from "node:http";
import type { ErrorResponse } from "../requestcontrol/decision.ts";

export function writeErrorResponse(res: ServerResponse, err: ErrorResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  res.writeHead(err.status, err.headers);
  res.end(err.body);
}
