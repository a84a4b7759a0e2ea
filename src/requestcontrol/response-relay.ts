/**
 * Response processing of the core, shared by every adapter: passes an engine's response body
 * through chunk by chunk, rewriting `"model":"<target>"` back to the client's model name (in a JSON
 * body and in every SSE event), noting the `usage` token counts it sees, and telling when the first
 * content token passed (TTFT). Works on whole lines: bytes after the last newline of a chunk wait
 * for the next chunk (SSE events end with a blank line, so streamed events are never held back).
 */

const EMPTY = Buffer.alloc(0);
/** An SSE event that is an engine's error object (vLLM's mid-stream failure), with or without the space. */
const ERROR_EVENTS = [Buffer.from('data: {"error"'), Buffer.from('data:{"error"')];
const USAGE = Buffer.from('"usage"');
/**
 * A streamed event that carries generated output: a non-empty `text` (completions), `content` or
 * reasoning delta (chat), or a tool call. vLLM's first chat event has `"content":""` (the role
 * only), which is not a token.
 */
const CONTENT_TOKEN =
  /"(?:text|content|reasoning_content|reasoning)"\s*:\s*"(?!")|"tool_calls"\s*:\s*\[\s*\{/;

/** Rewrite patterns by (target, client) pair; bounded (names come from the configuration). */
const patterns = new Map<string, RegExp>();

function rewritePattern(targetJson: string): RegExp {
  let p = patterns.get(targetJson);
  if (!p) {
    if (patterns.size >= 1024) patterns.clear();
    p = new RegExp(`"model"\\s*:\\s*${targetJson.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "g");
    patterns.set(targetJson, p);
  }
  return p;
}

/** Bytes of an unfinished line kept for the usage scan when nothing is rewritten. */
const MAX_SCAN_TAIL = 16 * 1024;
const PROMPT_TOKENS = Buffer.from('"prompt_tokens"');
const COMPLETION_TOKENS = Buffer.from('"completion_tokens"');

/** The integer after `"key"` (optional spaces, a colon) within `buf[from..to)`, or undefined. */
function numberAfter(buf: Buffer, key: Buffer, from: number, to: number): number | undefined {
  const at = buf.indexOf(key, from);
  if (at < 0 || at >= to) return undefined;
  let i = at + key.length;
  while (i < to && (buf[i] === 32 || buf[i] === 9)) i++;
  if (buf[i] !== 58) return undefined;
  i++;
  while (i < to && (buf[i] === 32 || buf[i] === 9)) i++;
  let n = 0;
  const start = i;
  while (i < to && buf[i]! >= 48 && buf[i]! <= 57 && i - start < 15) n = n * 10 + (buf[i++]! - 48);
  return i > start ? n : undefined;
}

export class ResponseRelay {
  readonly #pattern: RegExp | undefined;
  readonly #replacement: string;
  readonly #targetJson: string;
  /** Bytes after the last newline seen, not yet part of a complete line. */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** True while the first content token has not passed yet and the body is an SSE stream. */
  #watchTokens = false;
  /** From the last `usage` object seen (prompt_tokens / completion_tokens). */
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** True once the first content token (streamed) or the first body byte (not streamed) passed. */
  firstTokenSeen = false;
  /** True once streaming() was called. */
  isStream = false;
  /** True once a streamed event was an engine's error object (the stream failed though its status was 200). */
  streamError = false;

  /** Rewrites only when `targetModel !== clientModel`; otherwise bytes pass unchanged. */
  constructor(targetModel: string, clientModel: string) {
    this.#targetJson = JSON.stringify(targetModel);
    this.#replacement = `"model":${JSON.stringify(clientModel)}`;
    this.#pattern = targetModel === clientModel ? undefined : rewritePattern(this.#targetJson);
  }

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
      this.#hold(chunk);
      return this.#pattern ? EMPTY : chunk;
    }
    const head = nl + 1 === chunk.length ? chunk : chunk.subarray(0, nl + 1);
    const complete = this.#pendingLength > 0 ? Buffer.concat([...this.#pending, head]) : head;
    this.#pending = [];
    this.#pendingLength = 0;
    if (nl + 1 < chunk.length) this.#hold(chunk.subarray(nl + 1));
    if (this.#watchTokens && CONTENT_TOKEN.test(complete.toString("latin1"))) {
      this.#watchTokens = false;
      this.firstTokenSeen = true;
    }
    this.#scan(complete);
    return this.#pattern ? this.#rewrite(complete) : chunk;
  }

  /** Bytes still held when the upstream body ends. */
  end(): Buffer {
    if (this.#pendingLength === 0) return EMPTY;
    const rest = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingLength = 0;
    this.#scan(rest);
    return this.#pattern ? this.#rewrite(rest) : EMPTY;
  }

  /** Keeps an unfinished line: whole when it will be rewritten, else only its tail (for usage). */
  #hold(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingLength += piece.length;
    if (this.#pattern) return;
    while (this.#pending.length > 1 && this.#pendingLength - this.#pending[0]!.length >= MAX_SCAN_TAIL)
      this.#pendingLength -= this.#pending.shift()!.length;
  }

  #rewrite(buf: Buffer): Buffer {
    const text = buf.toString("utf8");
    if (!text.includes(this.#targetJson)) return buf;
    return Buffer.from(text.replace(this.#pattern!, this.#replacement));
  }

  /** Reads the token counts of the last `usage` object in `buf` (null usage leaves them as they are). */
  #scan(buf: Buffer): void {
    if (this.isStream && !this.streamError)
      this.streamError = buf.indexOf(ERROR_EVENTS[0]!) >= 0 || buf.indexOf(ERROR_EVENTS[1]!) >= 0;
    const at = buf.lastIndexOf(USAGE);
    if (at < 0) return;
    const to = Math.min(buf.length, at + 512);
    const p = numberAfter(buf, PROMPT_TOKENS, at, to);
    const c = numberAfter(buf, COMPLETION_TOKENS, at, to);
    if (p !== undefined) this.promptTokens = p;
    if (c !== undefined) this.completionTokens = c;
  }
}
