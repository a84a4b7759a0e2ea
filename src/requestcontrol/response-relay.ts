/**
 * Response processing of the core, shared by every adapter: passes an engine's response body
 * through chunk by chunk, rewriting `"model":"<target>"` back to the client's model name (in a JSON
 * body and in every SSE event), noting the `usage` token counts it sees, and telling when the first
 * content token passed (TTFT). Works on whole lines: bytes after the last newline of a chunk wait
 * for the next chunk (SSE events end with a blank line, so streamed events are never held back).
 */

const EMPTY = Buffer.alloc(0);
const USAGE = Buffer.from('"usage"');
/**
 * A streamed event that carries generated output: a non-empty `text` (completions), `content` or
 * reasoning delta (chat), or a tool call. vLLM's first chat event has `"content":""` (the role
 * only), which is not a token.
 */
const CONTENT_TOKEN =
  /"(?:text|content|reasoning_content|reasoning)"\s*:\s*"(?!")|"tool_calls"\s*:\s*\[\s*\{/;

export class ResponseRelay {
  readonly #pattern: RegExp | undefined;
  readonly #replacement: string;
  readonly #targetJson: string;
  #carry: Buffer | undefined;
  /** True while the first content token has not passed yet and the body is an SSE stream. */
  #watchTokens = false;
  /** From the last `usage` object seen (prompt_tokens / completion_tokens). */
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** True once the first content token (streamed) or the first body byte (not streamed) passed. */
  firstTokenSeen = false;

  /** Rewrites only when `targetModel !== clientModel`; otherwise bytes pass unchanged. */
  constructor(targetModel: string, clientModel: string) {
    this.#targetJson = JSON.stringify(targetModel);
    this.#replacement = `"model":${JSON.stringify(clientModel)}`;
    this.#pattern =
      targetModel === clientModel
        ? undefined
        : new RegExp(`"model"\\s*:\\s*${this.#targetJson.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "g");
  }

  /** True once streaming() was called. */
  isStream = false;

  /** The body is an SSE stream (`text/event-stream`): the first token is looked for event by event. */
  streaming(): void {
    this.isStream = true;
    this.#watchTokens = !this.firstTokenSeen;
  }

  /** True when the body changes length (the adapter must drop Content-Length). */
  get rewrites(): boolean {
    return this.#pattern !== undefined;
  }

  /** Bytes to send now for one upstream chunk (possibly empty while a line is incomplete). */
  push(chunk: Buffer): Buffer {
    if (!this.#watchTokens && chunk.length > 0) this.firstTokenSeen = true;
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      this.#carry = this.#carry ? Buffer.concat([this.#carry, chunk]) : Buffer.from(chunk);
      return this.#pattern ? EMPTY : chunk;
    }
    const head = chunk.subarray(0, nl + 1);
    const complete = this.#carry ? Buffer.concat([this.#carry, head]) : head;
    this.#carry = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : undefined;
    if (this.#watchTokens && CONTENT_TOKEN.test(complete.toString("latin1"))) {
      this.#watchTokens = false;
      this.firstTokenSeen = true;
    }
    this.#scan(complete);
    return this.#pattern ? this.#rewrite(complete) : chunk;
  }

  /** Bytes still held when the upstream body ends. */
  end(): Buffer {
    const rest = this.#carry;
    this.#carry = undefined;
    if (!rest) return EMPTY;
    this.#scan(rest);
    return this.#pattern ? this.#rewrite(rest) : EMPTY;
  }

  #rewrite(buf: Buffer): Buffer {
    const text = buf.toString("utf8");
    if (!text.includes(this.#targetJson)) return buf;
    return Buffer.from(text.replace(this.#pattern!, this.#replacement));
  }

  #scan(buf: Buffer): void {
    if (buf.indexOf(USAGE) < 0) return;
    for (const line of buf.toString("utf8").split("\n")) {
      if (!line.includes('"usage"')) continue;
      const start = line.indexOf("{");
      if (start < 0) continue;
      try {
        const usage = (
          JSON.parse(line.slice(start)) as {
            usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
          }
        ).usage;
        if (usage && typeof usage.prompt_tokens === "number") this.promptTokens = usage.prompt_tokens;
        if (usage && typeof usage.completion_tokens === "number")
          this.completionTokens = usage.completion_tokens;
      } catch {
        // Not a complete JSON object on this line: no usage to record.
      }
    }
  }
}
