/**
 * Stage 1, parse & validate: removes headers a client could use to steer the gateway, checks the
 * body's parse cost (json-budget.ts) and parses it once, checks the fields the gateway relies on,
 * sets `x-request-id` to the exchange's id, and copies `model` into `x-gateway-model-name`
 * (replacing any client value) so routes can match it. The parsed tree is not kept: only the
 * facts routing and scheduling need, and the raw bytes to forward.
 */
import { GatewayError } from "../errors.ts";
import { headerRecord } from "../header-record.ts";
import type { InboundRequest } from "./decision.ts";
import { type ByteSpan, JsonBudget } from "./json-budget.ts";
import { DESTINATION_HEADER_PREFIX, MODEL_NAME_HEADER, REQUEST_ID_HEADER } from "./wire-headers.ts";

/** A request after stage 1. */
export interface ParsedRequest {
  readonly id: string;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** The query string without `?` ("" when none). */
  readonly queryString: string;
  /** Lower-cased names, one value each; steering headers removed, model and request id set. */
  readonly headers: Record<string, string>;
  /** Names of the client's steering headers that were removed. */
  readonly removedHeaders: readonly string[];
  readonly rawBody: Buffer;
  /** The `model` the client sent. */
  readonly model: string;
  /** Where `model`'s JSON string is in rawBody (undefined when it can't be spliced, e.g. an escaped key). */
  readonly modelSpan: ByteSpan | undefined;
  readonly stream: boolean;
  /** Text for prefix affinity: the prompt, or the chat messages as `role: content` lines. */
  readonly prefixText: string;
  /** `max_tokens` / `max_completion_tokens` when given. */
  readonly maxTokens?: number;
}

/**
 * Parses and validates the request `body`; `id` is the request id the exchange assigned (the
 * client's `x-request-id` or a generated one). `budget`: the body's JsonBudget when the adapter
 * already fed it every byte as they arrived; else the body is scanned here. Throws GatewayError
 * (tooComplex / invalidJson / invalidRequest).
 */
export function parseRequest(
  req: InboundRequest,
  body: Buffer,
  id: string,
  budget?: JsonBudget,
): ParsedRequest {
  const headers: Record<string, string> = headerRecord();
  const removedHeaders: string[] = [];
  for (const name in req.headers) {
    if (name.startsWith(DESTINATION_HEADER_PREFIX)) {
      removedHeaders.push(name);
      continue;
    }
    const v = req.headers[name];
    if (v !== undefined) headers[name] = typeof v === "string" ? v : v.join(", ");
  }
  headers[REQUEST_ID_HEADER] = id;

  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const queryString = q < 0 ? "" : req.url.slice(q + 1);

  const scan = budget ?? new JsonBudget();
  if (budget === undefined) scan.push(body);
  if (scan.error !== undefined) throw new GatewayError("tooComplex", scan.error);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new GatewayError("invalidJson", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new GatewayError("invalidRequest", "request body must be a JSON object");
  const b = json as Record<string, unknown>;

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
    queryString,
    headers,
    removedHeaders,
    rawBody: body,
    model,
    modelSpan: spanOf(body, scan.modelSpan, model),
    stream,
    prefixText,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
  };
}

/** `span` when the bytes there are the JSON string `model` (the value JSON.parse kept). */
function spanOf(body: Buffer, span: ByteSpan | undefined, model: string): ByteSpan | undefined {
  if (span === undefined) return undefined;
  try {
    return JSON.parse(body.toString("utf8", span.start, span.end)) === model ? span : undefined;
  } catch {
    return undefined;
  }
}

function messageLine(m: unknown, i: number): string {
  if (typeof m !== "object" || m === null || typeof (m as { role?: unknown }).role !== "string")
    throw new GatewayError("invalidRequest", `'messages[${i}]' must be an object with a string 'role'`, {
      param: `messages[${i}]`,
    });
  const { role, content } = m as { role: string; content?: unknown };
  const text = typeof content === "string" ? content : Array.isArray(content) ? partsText(content, i) : "";
  return `${role}: ${text}`;
}

/** The text of a content-part array; a part that is not an object, or whose `text` is not a string, is a 400. */
function partsText(parts: readonly unknown[], i: number): string {
  let text = "";
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    const param = `messages[${i}].content[${j}]`;
    if (typeof p !== "object" || p === null || Array.isArray(p))
      throw new GatewayError("invalidRequest", `'${param}' must be an object`, { param });
    const t = (p as { text?: unknown }).text;
    if (t === undefined) continue;
    if (typeof t !== "string")
      throw new GatewayError("invalidRequest", `'${param}.text' must be a string`, {
        param: `${param}.text`,
      });
    text += t;
  }
  return text;
}
