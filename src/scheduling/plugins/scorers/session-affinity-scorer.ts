/**
 * session-affinity-scorer: a request carrying a session header (default `x-session-token`, whose
 * value is the base64url of an endpoint id, as sessionTokenFor() makes it) scores 1 on that endpoint
 * and 0 elsewhere; without the header every endpoint scores 0. It also ProducesResponseHeaders:
 * every response carries the header for the endpoint that served it.
 */
import { z } from "zod";
import type { ProducesResponseHeaders } from "../../../plugins/capabilities.ts";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Candidate, SchedulingRequest, Scorer } from "../../types.ts";

/** The session token a response carries so the client's next turn returns to `endpointId`. */
export function sessionTokenFor(endpointId: string): string {
  return Buffer.from(endpointId, "utf8").toString("base64url");
}

export class SessionAffinityScorer implements Scorer, ProducesResponseHeaders {
  readonly type = "session-affinity-scorer";
  readonly name: string;
  /** Lower-cased header name. */
  readonly headerName: string;
  constructor(name = "session-affinity-scorer", headerName = "x-session-token") {
    this.name = name;
    this.headerName = headerName.toLowerCase();
  }
  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    const token = request.headers[this.headerName];
    if (token === undefined || token === "") return candidates.map(() => 0);
    const target = Buffer.from(token, "base64url").toString("utf8");
    return candidates.map((c) => (c.endpoint.id === target ? 1 : 0));
  }
  /** The token the client sends back on its next turn to return to `endpointId`. */
  responseHeaders(endpointId: string): Record<string, string> {
    return { [this.headerName]: sessionTokenFor(endpointId) };
  }
}

export const sessionAffinityScorerPlugin = definePlugin({
  type: "session-affinity-scorer",
  kind: "scorer",
  description: "sends a session back to the endpoint named by its session header",
  parameters: z.strictObject({ headerName: z.string().min(1).default("x-session-token") }),
  create: (name, p) => new SessionAffinityScorer(name, p.headerName),
});
