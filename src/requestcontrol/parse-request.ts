/**
 * Stage 1, parse & validate: removes headers a client could use to steer the gateway, parses the
 * JSON body once, checks the fields the gateway relies on, keeps or generates `x-request-id`, and
 * copies `model` into `x-gateway-model-name` (replacing any client value) so routes can match it.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "../errors.ts";

/** Header carrying the body's `model`, set before routing (Gateway API Inference Extension BBR). */
export const MODEL_NAME_HEADER = "x-gateway-model-name";
/** Client-supplied headers with this prefix are removed: only the gateway chooses endpoints. */
export const DESTINATION_HEADER_PREFIX = "x-gateway-destination-endpoint";
export const REQUEST_ID_HEADER = "x-request-id";
export const OBJECTIVE_HEADER = "x-gateway-inference-objective";
export const FAIRNESS_ID_HEADER = "x-gateway-inference-fairness-id";

/** What the HTTP adapter hands the director. */
export interface InboundRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request after stage 1. */
export interface ParsedRequest {
  readonly id: string;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased names, one value each; steering headers removed, model and request id set. */
  readonly headers: Record<string, string>;
  /** Parsed JSON body. */
  readonly body: Record<string, unknown>;
  readonly rawBody: Buffer;
  /** The `model` the client sent. */
  readonly model: string;
  readonly stream: boolean;
  /** Text for prefix affinity: the prompt, or the chat messages as `role: content` lines. */
  readonly prefixText: string;
  /** `max_tokens` / `max_completion_tokens` when given. */
  readonly maxTokens?: number;
}

/** Parses and validates; throws GatewayError (invalidJson / invalidRequest). */
export function parseRequest(req: InboundRequest): ParsedRequest {
  const headers: Record<string, string> = {};
  for (const name in req.headers) {
    if (name.startsWith(DESTINATION_HEADER_PREFIX)) continue;
    const v = req.headers[name];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  const id = headers[REQUEST_ID_HEADER] || randomUUID();
  headers[REQUEST_ID_HEADER] = id;

  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : req.url.slice(q + 1));

  let body: unknown;
  try {
    body = JSON.parse(req.body.toString("utf8"));
  } catch (e) {
    throw new GatewayError("invalidJson", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new GatewayError("invalidRequest", "request body must be a JSON object");
  const b = body as Record<string, unknown>;

  const model = b["model"];
  if (model === undefined)
    throw new GatewayError("invalidRequest", "missing required field 'model'", { param: "model" });
  if (typeof model !== "string" || model === "")
    throw new GatewayError("invalidRequest", "'model' must be a non-empty string", { param: "model" });
  const stream = b["stream"] ?? false;
  if (typeof stream !== "boolean")
    throw new GatewayError("invalidRequest", "'stream' must be a boolean", { param: "stream" });
  let maxTokens: number | undefined;
  for (const field of ["max_tokens", "max_completion_tokens"]) {
    const v = b[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
      throw new GatewayError("invalidRequest", `'${field}' must be a positive integer`, { param: field });
    maxTokens = v;
  }

  let prefixText = "";
  if (path.endsWith("/chat/completions")) {
    const messages = b["messages"];
    if (!Array.isArray(messages) || messages.length === 0)
      throw new GatewayError("invalidRequest", "'messages' must be a non-empty array", { param: "messages" });
    prefixText = messages.map((m, i) => messageLine(m, i)).join("\n");
  } else if (path.endsWith("/completions")) {
    const prompt = b["prompt"];
    if (typeof prompt === "string") prefixText = prompt;
    else if (Array.isArray(prompt) && prompt.length > 0)
      prefixText = prompt.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join("\n");
    else
      throw new GatewayError("invalidRequest", "'prompt' must be a string or a non-empty array", {
        param: "prompt",
      });
  }

  headers[MODEL_NAME_HEADER] = model;
  return {
    id,
    method: req.method,
    path,
    query,
    headers,
    body: b,
    rawBody: req.body,
    model,
    stream,
    prefixText,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
  };
}

function messageLine(m: unknown, i: number): string {
  if (typeof m !== "object" || m === null || typeof (m as { role?: unknown }).role !== "string")
    throw new GatewayError("invalidRequest", `'messages[${i}]' must be an object with a string 'role'`, {
      param: `messages[${i}]`,
    });
  const { role, content } = m as { role: string; content?: unknown };
  const text =
    typeof content === "string"
      ? content
      : Array.isArray(content)
        ? content
            .map((p) => (typeof p === "object" && p !== null && "text" in p ? String(p.text) : ""))
            .join("")
        : "";
  return `${role}: ${text}`;
}
