/**
 * The request head of HTTP/1.1 (RFC 9112 §3, §6): request line, header fields and how the body
 * is framed. Strict where laxness enables smuggling or ambiguity: Content-Length with
 * Transfer-Encoding, differing Content-Lengths, codings other than `chunked`, bare LF, obs-fold,
 * absolute-form and asterisk-form targets (this is not a forward proxy) are all refused.
 */
import {
  type HeaderFields,
  hasToken,
  isToken,
  parseContentLength,
  parseHeaderLines,
} from "./header-lines.ts";

export interface RequestHead {
  readonly method: string;
  /** Origin-form target: path and query, as sent. */
  readonly url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minorVersion: 0 | 1;
  readonly headers: HeaderFields;
  /** Body framing: a length (0 = none) or chunked. */
  readonly body: { readonly kind: "length"; readonly length: number } | { readonly kind: "chunked" };
  /** Whether the connection stays open after this exchange. */
  readonly keepAlive: boolean;
  /** The client waits for `100 Continue` before sending the body. */
  readonly expectContinue: boolean;
}

/** Why a head was refused: the status to answer with, and a message for the client. */
export interface HeadError {
  readonly status: 400 | 414 | 431 | 501 | 505;
  readonly message: string;
}

export interface RequestHeadLimits {
  /** Bytes of request line plus headers (431 beyond). */
  readonly maxHeadBytes: number;
  /** Header fields (431 beyond). */
  readonly maxHeaderFields: number;
}

/** True when every CR is followed by LF and every LF follows a CR. */
export function onlyCrlf(text: string): boolean {
  for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r", i + 1))
    if (text.charCodeAt(i + 1) !== 10) return false;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1))
    if (text.charCodeAt(i - 1) !== 13) return false;
  return true;
}

const err = (status: HeadError["status"], message: string): { error: HeadError } => ({
  error: { status, message },
});

/**
 * Parses the head in `head` (latin1 text up to, not including, the blank line's CRLF CRLF).
 * Returns the head or the error to answer with.
 */
export function parseRequestHead(
  head: string,
  limits: RequestHeadLimits,
): { head: RequestHead } | { error: HeadError } {
  if (!onlyCrlf(head)) return err(400, "bare CR or LF in the request head");
  const lineEnd = head.indexOf("\r\n");
  const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(" ", sp2 + 1) >= 0)
    return err(400, "malformed request line (expected: METHOD /path HTTP/1.1)");
  const method = line.slice(0, sp1);
  const url = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return err(400, "invalid method");
  let minorVersion: 0 | 1;
  if (version === "HTTP/1.1") minorVersion = 1;
  else if (version === "HTTP/1.0") minorVersion = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) return err(505, `${version} is not supported; use HTTP/1.1`);
  else return err(400, "malformed HTTP version in the request line");
  if (url.length === 0) return err(400, "empty request target");
  if (url === "*") return err(400, "the asterisk-form target is not supported");
  if (url.charCodeAt(0) !== 47)
    return err(
      400,
      "only origin-form targets (/path?query) are accepted; this gateway is not a forward proxy",
    );
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 32 || c >= 127)
      return err(400, "the request target has a character that must be percent-encoded");
  }

  const parsed = parseHeaderLines(
    head,
    lineEnd < 0 ? head.length : lineEnd + 2,
    head.length,
    limits.maxHeaderFields,
  );
  if ("error" in parsed) return err(parsed.tooMany ? 431 : 400, parsed.error);
  const headers = parsed.fields;
  if (minorVersion === 1 && headers["host"] === undefined) return err(400, "missing Host header");

  let body: RequestHead["body"] = { kind: "length", length: 0 };
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  if (te !== undefined) {
    if (cl !== undefined) return err(400, "both Transfer-Encoding and Content-Length");
    if (minorVersion === 0) return err(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (te.trim().toLowerCase() !== "chunked")
      return err(501, `Transfer-Encoding ${te.slice(0, 64)} is not supported (only chunked)`);
    body = { kind: "chunked" };
  } else if (cl !== undefined) {
    const length = parseContentLength(cl);
    if (length === undefined) return err(400, "invalid Content-Length");
    body = { kind: "length", length };
  }
  const connection = headers["connection"];
  const keepAlive = minorVersion === 1 ? !hasToken(connection, "close") : hasToken(connection, "keep-alive");
  const expect = headers["expect"];
  const expectContinue =
    expect !== undefined && minorVersion === 1 && expect.toLowerCase() === "100-continue";
  return { head: { method, url, minorVersion, headers, body, keepAlive, expectContinue } };
}
