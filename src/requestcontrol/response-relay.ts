/**
 * Response processing of the core, shared by every adapter: passes an engine's response body
 * through chunk by chunk, rewriting `"model":"<target>"` back to the client's model name (in a JSON
 * body and in every SSE event), noting the `usage` token counts it sees, and telling when the first
 * content token passed (TTFT). Works on whole lines: bytes after the last newline of a chunk wait
 * for the next chunk (SSE events end with a blank line, so streamed events are never held back).
 */

import { ModelRewrite } from "./model-rewrite.ts";

const EMPTY = Buffer.alloc(0);
/** An engine's error object; an SSE event `data: {"error"` or `data:{"error"` is vLLM's mid-stream failure. */
const ERROR_OBJECT = Buffer.from('{"error"');
const DATA_FIELD = Buffer.from("data:");
const USAGE = Buffer.from('"usage"');
/**
 * A streamed event that carries generated output: a non-empty `text` (completions), `content` or
 * reasoning delta (chat), or a tool call. vLLM's first chat event has `"content":""` (the role
 * only), which is not a token.
 */
const CONTENT_TOKEN =
  /"(?:text|content|reasoning_content|reasoning)"\s*:\s*"(?!")|"tool_calls"\s*:\s*\[\s*\{/;

/** Bytes of an unfinished line kept for the usage scan when nothing is rewritten. */
const MAX_SCAN_TAIL = 16 * 1024;
/**
 * Bytes of an unfinished line held for the rewrite before its first part is sent (a JSON body is
 * one line: without a bound an engine's endless body would be held whole).
 */
const MAX_HELD_LINE = 1024 * 1024;
const PROMPT_TOKENS = Buffer.from('"prompt_tokens"');
const COMPLETION_TOKENS = Buffer.from('"completion_tokens"');

/** True when `buf` holds an SSE event whose data is an error object (`data:` and one optional space before it). */
function hasErrorEvent(buf: Buffer): boolean {
  for (let at = buf.indexOf(ERROR_OBJECT); at >= 0; at = buf.indexOf(ERROR_OBJECT, at + 1)) {
    const field = (buf[at - 1] === 32 ? at - 1 : at) - DATA_FIELD.length;
    if (field >= 0 && buf.compare(DATA_FIELD, 0, DATA_FIELD.length, field, field + DATA_FIELD.length) === 0)
      return true;
  }
  return false;
}

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
  readonly #rewrite: ModelRewrite | undefined;
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
    this.#rewrite = targetModel === clientModel ? undefined : new ModelRewrite(targetModel, clientModel);
  }

  /** The body is an SSE stream (`text/event-stream`): the first token is looked for event by event. */
  streaming(): void {
    this.isStream = true;
    this.#watchTokens = !this.firstTokenSeen;
  }

  /** True when the body changes length (the adapter must drop Content-Length). */
  get rewrites(): boolean {
    return this.#rewrite !== undefined;
  }

  /** Bytes to send now for one upstream chunk (possibly empty while a line is incomplete). */
  push(chunk: Buffer): Buffer {
    if (!this.#watchTokens && chunk.length > 0) this.firstTokenSeen = true;
    const last = chunk.length - 1;
    const nl = last >= 0 && chunk[last] === 10 ? last : chunk.lastIndexOf(10);
    if (nl < 0) {
      this.#hold(chunk);
      if (!this.#rewrite) return chunk;
      return this.#pendingLength > MAX_HELD_LINE ? this.#sendHeldPart(this.#rewrite) : EMPTY;
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
    return this.#rewrite ? this.#rewrite.apply(complete) : chunk;
  }

  /** Bytes still held when the upstream body ends. */
  end(): Buffer {
    if (this.#pendingLength === 0) return EMPTY;
    const rest = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingLength = 0;
    this.#scan(rest);
    return this.#rewrite ? this.#rewrite.apply(rest) : EMPTY;
  }

  /** Sends what of a long unfinished line can be rewritten now, keeping the rest (ModelRewrite.safeCut). */
  #sendHeldPart(rewrite: ModelRewrite): Buffer {
    const held = Buffer.concat(this.#pending);
    const cut = rewrite.safeCut(held);
    const part = held.subarray(0, cut);
    const rest = held.subarray(cut);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingLength = rest.length;
    this.#scan(part);
    return rewrite.apply(part);
  }

  /** Keeps an unfinished line: whole when it will be rewritten, else only its tail (for usage). */
  #hold(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingLength += piece.length;
    if (this.#rewrite) return;
    while (this.#pending.length > 1 && this.#pendingLength - this.#pending[0]!.length >= MAX_SCAN_TAIL)
      this.#pendingLength -= this.#pending.shift()!.length;
  }

  /** Reads the token counts of the last `usage` object in `buf` (null usage leaves them as they are). */
  #scan(buf: Buffer): void {
    if (this.isStream && !this.streamError) this.streamError = hasErrorEvent(buf);
    const at = buf.lastIndexOf(USAGE);
    if (at < 0) return;
    const to = Math.min(buf.length, at + 512);
    const p = numberAfter(buf, PROMPT_TOKENS, at, to);
    const c = numberAfter(buf, COMPLETION_TOKENS, at, to);
    if (p !== undefined) this.promptTokens = p;
    if (c !== undefined) this.completionTokens = c;
  }
}
