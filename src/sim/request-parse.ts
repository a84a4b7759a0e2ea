import { ApiError } from "./api-error.ts";
import { tokenize } from "./tokenizer.ts";

/** A validated generation request (completions or chat). */
export interface GenerationRequest {
  chat: boolean;
  /** Model name as requested (a served name or a LoRA adapter), or undefined (= first served name). */
  model: string | undefined;
  promptTokens: number[];
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  /** stream_options.continuous_usage_stats (with include_usage): usage in every chunk. */
  continuousUsage: boolean;
  ignoreEos: boolean;
  priority: number;
  cacheSalt: string | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optInt(body: Json, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new ApiError(400, `${key} must be an integer, got ${JSON.stringify(v)}.`, key);
  if (v < min) throw new ApiError(400, `${key} must be at least ${min}, got ${v}.`, key);
  return v;
}

function optBool(body: Json, key: string): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ApiError(400, `${key} must be a boolean.`, key);
  return v;
}

function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0);
}

/** Prompt tokens of a /v1/completions `prompt`: a string, [string], token ids, or [token ids]. */
function completionPrompt(prompt: unknown): number[] {
  if (typeof prompt === "string") return tokenize(prompt);
  if (isTokenIds(prompt) && prompt.length > 0) return prompt.slice();
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1) {
      throw new ApiError(
        400,
        "igw sim serves one prompt per request; send a string or a one-element list.",
        "prompt",
      );
    }
    const only = prompt[0];
    if (typeof only === "string") return tokenize(only);
    if (isTokenIds(only)) return only.slice();
  }
  throw new ApiError(400, "prompt must be a string, a list of strings, or a list of token ids.", "prompt");
}

/** Text of a chat message `content`: a string or a list of {type:"text", text} parts. */
export function messageText(content: unknown): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const p of content) {
      if (isObject(p) && p["type"] === "text" && typeof p["text"] === "string") parts.push(p["text"]);
      else
        throw new ApiError(
          400,
          "igw sim supports only text content parts ({type: 'text', text}).",
          "messages",
        );
    }
    return parts.join(" ");
  }
  throw new ApiError(400, "message content must be a string or a list of content parts.", "messages");
}

/** Prompt tokens of chat `messages`: the words of every message's content, in order (no template tokens). */
export function chatPrompt(messages: unknown): number[] {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new ApiError(400, "messages must be a non-empty list.", "messages");
  const out: number[] = [];
  for (const m of messages) {
    if (!isObject(m) || typeof m["role"] !== "string")
      throw new ApiError(400, "each message needs a string role.", "messages");
    for (const t of tokenize(messageText(m["content"]))) out.push(t);
  }
  return out;
}

/**
 * Validates a completions/chat body as vLLM does and applies the context-length rule
 * (prompt + max tokens <= maxModelLen, else 400). priorityAllowed: --scheduling-policy priority.
 */
export function parseGenerationRequest(
  raw: unknown,
  chat: boolean,
  maxModelLen: number,
  priorityAllowed: boolean,
): GenerationRequest {
  if (!isObject(raw)) throw new ApiError(400, "The request body must be a JSON object.");
  const body = raw;
  const model = body["model"];
  if (model !== undefined && model !== null && typeof model !== "string")
    throw new ApiError(400, "model must be a string.", "model");
  const promptTokens = chat ? chatPrompt(body["messages"]) : completionPrompt(body["prompt"]);
  const stream = optBool(body, "stream");
  const so = body["stream_options"];
  if (so !== undefined && so !== null) {
    if (!stream)
      throw new ApiError(400, "Stream options can only be defined when `stream=True`.", "stream_options");
    if (!isObject(so)) throw new ApiError(400, "stream_options must be an object.", "stream_options");
  }
  const includeUsage = isObject(so) && so["include_usage"] === true;
  const n = optInt(body, "n", 1);
  if (n !== undefined && n !== 1) throw new ApiError(400, "igw sim supports n=1 only.", "n");
  const priority =
    body["priority"] === undefined || body["priority"] === null ? 0 : optInt(body, "priority", -(2 ** 31))!;
  if (priority !== 0 && !priorityAllowed) {
    // vLLM's message (a ValueError from the engine client, answered as a 400 BadRequestError).
    throw new ApiError(400, `Got priority ${priority} but Priority scheduling is not enabled.`);
  }
  const requested = chat
    ? (optInt(body, "max_completion_tokens", 1) ?? optInt(body, "max_tokens", 1))
    : optInt(body, "max_tokens", 1);
  const p = promptTokens.length;
  if (p === 0)
    throw new ApiError(
      400,
      "The prompt is empty (it must contain at least one token).",
      chat ? "messages" : "prompt",
    );
  if (requested === undefined && chat && p >= maxModelLen) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${p} input tokens. Please reduce the length of the input messages.`,
      "messages",
    );
  }
  const maxTokens = requested ?? (chat ? maxModelLen - p : 16);
  if (p + maxTokens > maxModelLen) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${p + maxTokens} tokens ` +
        `(${p} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    );
  }
  const salt = body["cache_salt"];
  if (salt !== undefined && salt !== null && (typeof salt !== "string" || salt.length === 0)) {
    throw new ApiError(400, "Parameter 'cache_salt' must be a non-empty string if provided.", "cache_salt");
  }
  return {
    chat,
    model: typeof model === "string" ? model : undefined,
    promptTokens,
    maxTokens,
    stream,
    includeUsage,
    continuousUsage: includeUsage && isObject(so) && so["continuous_usage_stats"] === true,
    ignoreEos: optBool(body, "ignore_eos"),
    priority,
    cacheSalt: typeof salt === "string" ? salt : null,
  };
}
