/**
 * The response head of HTTP/1.1 from a model server (RFC 9112 §4, §6.3): status line, header
 * fields, body framing (length, chunked, or until the connection closes) and whether the
 * connection may be reused, with the server's keep-alive timeout hint.
 */
import { type HeaderFields, hasToken, parseContentLength, parseHeaderLines } from "./header-lines.ts";
import { onlyCrlf } from "./request-head.ts";

export interface ResponseHead {
  readonly status: number;
  readonly headers: HeaderFields;
  readonly body:
    | { readonly kind: "length"; readonly length: number }
    | { readonly kind: "chunked" }
    /** Read until the server closes the connection. */
    | { readonly kind: "close" };
  /** The connection may carry another request afterwards. */
  readonly keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=N` hint, in ms, when it sent one. */
  readonly keepAliveTimeoutMs: number | undefined;
}

const MAX_FIELDS = 200;

/** Parses `head` (latin1, up to the blank line). Returns the head, or a reason when malformed. */
export function parseResponseHead(head: string): { head: ResponseHead } | { error: string } {
  if (!onlyCrlf(head)) return { error: "bare CR or LF in the response head" };
  const lineEnd = head.indexOf("\r\n");
  const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  // `HTTP/1.x DDD[ reason]`, parsed by position (no regex on the hot path).
  const minorCode = line.charCodeAt(7);
  const d0 = line.charCodeAt(9) - 48;
  const d1 = line.charCodeAt(10) - 48;
  const d2 = line.charCodeAt(11) - 48;
  if (
    !line.startsWith("HTTP/1.") ||
    (minorCode !== 48 && minorCode !== 49) ||
    line.charCodeAt(8) !== 32 ||
    !(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
    (line.length > 12 && line.charCodeAt(12) !== 32)
  )
    return { error: `malformed status line ${JSON.stringify(line.slice(0, 80))}` };
  const minor = minorCode - 48;
  const status = d0 * 100 + d1 * 10 + d2;
  const parsed = parseHeaderLines(head, lineEnd < 0 ? head.length : lineEnd + 2, head.length, MAX_FIELDS);
  if ("error" in parsed) return { error: parsed.error };
  const headers = parsed.fields;
  const connection = headers["connection"];
  let keepAlive = minor === 1 ? !hasToken(connection, "close") : hasToken(connection, "keep-alive");
  let body: ResponseHead["body"];
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  if (status === 204 || status === 304 || (status >= 100 && status < 200))
    body = { kind: "length", length: 0 };
  else if (te !== undefined) {
    if (te.trim().toLowerCase() !== "chunked")
      return { error: `unsupported Transfer-Encoding ${te.slice(0, 40)}` };
    body = { kind: "chunked" };
  } else if (cl !== undefined) {
    const length = parseContentLength(cl);
    if (length === undefined) return { error: "invalid Content-Length" };
    body = { kind: "length", length };
  } else {
    body = { kind: "close" };
    keepAlive = false;
  }
  const keepAliveHeader = headers["keep-alive"];
  const hint = keepAliveHeader === undefined ? null : /(?:^|,)\s*timeout=(\d+)/i.exec(keepAliveHeader);
  return {
    head: {
      status,
      headers,
      body,
      keepAlive,
      keepAliveTimeoutMs: hint ? Number(hint[1]) * 1000 : undefined,
    },
  };
}
