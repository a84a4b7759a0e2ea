import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import { emptyOutput, type RequestOutput } from "./request-output.ts";

/** One streaming request ready to send: path, pre-serialised JSON body, headers. */
export interface StreamRequest {
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** Prompt length as built; replaced by usage.prompt_tokens when the server reports it. */
  promptLen: number;
  classIndex: number;
  /** Parse every chunk to concatenate the generated text (slower; for --save-detailed). */
  collectText: boolean;
  /** Idle timeout for headers and between body chunks, ms. */
  timeoutMs: number;
}

const NL = 10;
const CR = 13;
const CHOICES = Buffer.from('"choices"');
const DATA = Buffer.from("data:");
const DONE = Buffer.from("[DONE]");
const ERROR_BODY_LIMIT = 4096;

function startsWithAt(buf: Buffer, at: number, end: number, needle: Buffer): boolean {
  if (end - at < needle.length) return false;
  for (let i = 0; i < needle.length; i++) if (buf[at + i] !== needle[i]) return false;
  return true;
}

function textOfChunk(json: string): string {
  const obj = JSON.parse(json) as {
    choices?: Array<{ text?: string | null; delta?: { content?: string | null } }>;
  };
  const c = obj.choices?.[0];
  return c?.text ?? c?.delta?.content ?? "";
}

/**
 * Sends one request with undici's `dispatch` and measures it the way vLLM's client does: TTFT at
 * the first chunk whose `choices` is non-empty, ITL between such chunks, E2EL at the last one;
 * `usage` gives the token counts. SSE bytes are scanned in place; only non-token events (usage,
 * errors) are JSON-parsed, unless `collectText`. Never rejects: failures come back as outputs.
 */
export function sendStreamingRequest(
  dispatcher: Dispatcher,
  origin: string,
  req: StreamRequest,
): Promise<RequestOutput> {
  return new Promise((resolve) => {
    const out = emptyOutput(req.classIndex, req.promptLen);
    const start = performance.now();
    out.startTime = start / 1000;
    let last = start;
    let pending: Buffer | null = null;
    let errorBody = "";
    let statusText = "";
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (out.status === 200) {
        if (out.chunks > 0) out.success = true;
        else if (out.error === "") {
          out.error =
            "Never received a valid chunk to calculate TTFT. This response will be marked as failed!";
        }
      } else if (out.status !== 0) {
        out.error = `HTTP ${out.status} ${statusText}${errorBody ? `: ${errorBody.trim()}` : ""}`;
      }
      resolve(out);
    };
    const handleOther = (json: string) => {
      let obj: {
        usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
        error?: { message?: string } | string;
      };
      try {
        obj = JSON.parse(json);
      } catch {
        return;
      }
      if (obj.usage) {
        if (typeof obj.usage.completion_tokens === "number") out.outputTokens = obj.usage.completion_tokens;
        if (typeof obj.usage.prompt_tokens === "number") out.promptLen = obj.usage.prompt_tokens;
      }
      if (obj.error !== undefined && out.error === "") {
        out.error = `stream error: ${typeof obj.error === "string" ? obj.error : (obj.error.message ?? "")}`;
      }
    };
    const handleEvent = (buf: Buffer, s: number, e: number, now: number) => {
      // Skip comment lines (":...") and find the data line.
      let p = s;
      while (p < e && buf[p] === 58 /* : */) {
        const nl = buf.indexOf(NL, p);
        if (nl < 0 || nl >= e) return;
        p = nl + 1;
      }
      if (!startsWithAt(buf, p, e, DATA)) return;
      p += DATA.length;
      if (buf[p] === 32) p++;
      let end = e;
      if (buf[end - 1] === CR) end--;
      if (startsWithAt(buf, p, end, DONE)) return;
      const c = buf.indexOf(CHOICES, p);
      let token = false;
      if (c >= 0 && c < end) {
        // "choices" <ws> : <ws> [ <ws> X — a token event unless X is "]" (empty list).
        let q = c + CHOICES.length;
        while (q < end && (buf[q] === 32 || buf[q] === 9)) q++;
        if (buf[q] === 58 /* : */) q++;
        while (q < end && (buf[q] === 32 || buf[q] === 9)) q++;
        if (buf[q] === 91 /* [ */) {
          q++;
          while (q < end && (buf[q] === 32 || buf[q] === 9 || buf[q] === NL || buf[q] === CR)) q++;
          token = q < end && buf[q] !== 93; /* ] */
        }
      }
      if (token) {
        if (out.chunks === 0) out.ttft = (now - start) / 1000;
        else out.itl.push((now - last) / 1000);
        last = now;
        out.chunks++;
        out.latency = (now - start) / 1000;
        if (req.collectText) {
          try {
            out.generatedText += textOfChunk(buf.toString("utf8", p, end));
          } catch {
            // keep timing even when a chunk is not valid JSON
          }
        }
        return;
      }
      handleOther(buf.toString("utf8", p, end));
    };
    const onData = (chunk: Buffer) => {
      const now = performance.now();
      const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let s = 0;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(NL, from);
        if (nl < 0) break;
        const n1 = buf[nl + 1];
        let next = -1;
        if (n1 === NL) next = nl + 2;
        else if (n1 === CR && buf[nl + 2] === NL) next = nl + 3;
        if (next < 0) {
          if (nl + 1 >= buf.length || (n1 === CR && nl + 2 >= buf.length)) break;
          from = nl + 1;
          continue;
        }
        handleEvent(buf, s, nl, now);
        s = next;
        from = next;
      }
      if (s < buf.length) pending = Buffer.from(buf.subarray(s));
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, _headers, statusMessage) {
        out.status = statusCode;
        statusText = statusMessage ?? "";
      },
      onResponseData(_controller, chunk) {
        if (out.status === 200) onData(chunk);
        else if (errorBody.length < ERROR_BODY_LIMIT) errorBody += chunk.toString("utf8");
      },
      onResponseEnd() {
        if (pending && out.status === 200) {
          const rest = pending;
          pending = null;
          handleEvent(rest, 0, rest.length, performance.now());
        }
        finish();
      },
      onResponseError(_controller, err) {
        // Like vLLM, a connection error or a stream cut short fails the request, tokens or not.
        if (settled) return;
        settled = true;
        out.error = err.message || String(err);
        out.success = false;
        resolve(out);
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin,
          path: req.path,
          method: "POST",
          headers: req.headers,
          body: req.body,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      );
    } catch (err) {
      out.error = err instanceof Error ? err.message : String(err);
      settled = true;
      resolve(out);
    }
  });
}
