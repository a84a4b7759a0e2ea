import { OUTPUT_PIECES } from "./tokenizer.ts";

/** Usage as vLLM reports it (field order as vLLM serializes UsageInfo). */
export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
}

/** Builds a usage object. */
export function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion };
}

/** JSON string literals of the output pieces, precomputed for the streaming hot path. */
const PIECE_JSON: readonly string[] = OUTPUT_PIECES.map((p) => JSON.stringify(p));

/**
 * SSE frames of one response, as vLLM writes them (`data: <json>\n\n`). The prefix (id, object,
 * created, model) is serialized once per request; each token frame appends one choice.
 */
export class StreamFrames {
  private readonly head: string;
  private readonly chat: boolean;

  constructor(chat: boolean, id: string, created: number, model: string) {
    this.chat = chat;
    this.head =
      `data: {"id":${JSON.stringify(id)},"object":"${chat ? "chat.completion.chunk" : "text_completion"}",` +
      `"created":${created},"model":${JSON.stringify(model)},"choices":[`;
  }

  /** Chat only: the first frame, sent with the first token: delta {role:"assistant", content:""}.
   *  u: usage so far, with stream_options.continuous_usage_stats. */
  role(u?: Usage): string {
    return `${this.head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}${close(u)}`;
  }

  /** The frame of one token (word indexes OUTPUT_WORDS); the last one carries finish_reason.
   *  u: usage so far, with stream_options.continuous_usage_stats. */
  token(word: number, finish: string | null, u?: Usage): string {
    const text = PIECE_JSON[word]!;
    if (this.chat) {
      return finish === null
        ? `${this.head}{"index":0,"delta":{"content":${text}},"logprobs":null,"finish_reason":null}${close(u)}`
        : `${this.head}{"index":0,"delta":{"content":${text}},"logprobs":null,"finish_reason":"${finish}","stop_reason":null}${close(u)}`;
    }
    return `${this.head}{"index":0,"text":${text},"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`},"stop_reason":null}${close(u)}`;
  }

  /** The final usage frame (stream_options.include_usage): choices [] plus usage. */
  usage(u: Usage): string {
    return `${this.head}],"usage":${JSON.stringify(u)}}\n\n`;
  }
}

/** Closes a chunk's choices list, with a usage object if given. */
function close(u: Usage | undefined): string {
  return u === undefined ? "]}\n\n" : `],"usage":${JSON.stringify(u)}}\n\n`;
}

/** The stream terminator. */
export const DONE_FRAME = "data: [DONE]\n\n";

/** An error event inside a stream (vLLM: `data: {"error":{...}}` then `[DONE]`). */
export function errorFrame(errorJson: string): string {
  return `data: ${errorJson}\n\n`;
}

/** Non-streaming /v1/completions body. */
export function completionBody(
  id: string,
  created: number,
  model: string,
  text: string,
  finish: string,
  u: Usage,
): string {
  return JSON.stringify({
    id,
    object: "text_completion",
    created,
    model,
    choices: [
      { index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null, prompt_logprobs: null },
    ],
    usage: { ...u, prompt_tokens_details: null },
    kv_transfer_params: null,
  });
}

/** Non-streaming /v1/chat/completions body. */
export function chatBody(
  id: string,
  created: number,
  model: string,
  text: string,
  finish: string,
  u: Usage,
): string {
  return JSON.stringify({
    id,
    object: "chat.completion",
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", reasoning_content: null, content: text, tool_calls: [] },
        logprobs: null,
        finish_reason: finish,
        stop_reason: null,
      },
    ],
    usage: { ...u, prompt_tokens_details: null },
    prompt_logprobs: null,
    kv_transfer_params: null,
  });
}
