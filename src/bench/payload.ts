/** How one request body is built (vLLM's openai / openai-chat request functions). */
export interface PayloadParams {
  backend: "openai" | "openai-chat";
  model: string;
  prompt: string;
  maxTokens: number;
  ignoreEos: boolean;
  extraBody: Record<string, unknown>;
  priority?: number;
}

/**
 * The JSON body, serialised once before the run: completions send {model, prompt,
 * repetition_penalty: 1.0, max_tokens, logprobs: null, stream, stream_options.include_usage};
 * chat sends messages=[{role:user, content}] and max_completion_tokens. `ignore_eos` only when
 * true; `--extra-body` last; `priority` when the class has one.
 */
export function buildPayload(p: PayloadParams): Buffer {
  const body: Record<string, unknown> =
    p.backend === "openai-chat"
      ? {
          model: p.model,
          messages: [{ role: "user", content: p.prompt }],
          max_completion_tokens: p.maxTokens,
          stream: true,
          stream_options: { include_usage: true },
        }
      : {
          model: p.model,
          prompt: p.prompt,
          repetition_penalty: 1.0,
          max_tokens: p.maxTokens,
          logprobs: null,
          stream: true,
          stream_options: { include_usage: true },
        };
  if (p.ignoreEos) body["ignore_eos"] = true;
  Object.assign(body, p.extraBody);
  if (p.priority !== undefined) body["priority"] = p.priority;
  return Buffer.from(JSON.stringify(body));
}

/** Headers of one request: JSON, Bearer $OPENAI_API_KEY if set, the user's headers, x-request-id. */
export function buildHeaders(extra: Record<string, string>, requestId: string): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json" };
  const key = process.env["OPENAI_API_KEY"];
  if (key) h["authorization"] = `Bearer ${key}`;
  for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
  h["x-request-id"] = requestId;
  return h;
}
