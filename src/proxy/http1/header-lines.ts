/**
 * HTTP/1.1 header section parsing shared by the request and response parsers (RFC 9112 §5):
 * `field-name ":" OWS field-value OWS` per CRLF-terminated line, names lower-cased, repeated
 * fields joined with ", ". Strict: no obs-fold, no whitespace before the colon, no control
 * characters in values, names made of token characters only.
 */
import { headerRecord } from "../../header-record.ts";

/** Token characters (RFC 9110 §5.6.2), by char code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/** 1 when `s` is a token with an upper-case letter, 2 when a lower-case token, 0 when not a token. */
function tokenKind(s: string): 0 | 1 | 2 {
  if (s.length === 0) return 0;
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return 0;
    if (c >= 65 && c <= 90) upper = true;
  }
  return upper ? 1 : 2;
}

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** True when a field value holds only visible characters, spaces and tabs (latin1 obs-text allowed). */
function validValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Parsed header fields: lower-cased names, repeated fields joined with ", ". */
export type HeaderFields = Record<string, string>;

/**
 * Parses the header lines of `head` from `start` (just after the start line's CRLF) to `end`
 * (the index of the blank line's CRLF). Returns the fields, or a reason string when malformed.
 * `maxFields`: more lines than this is an error (431 by the caller).
 */
export function parseHeaderLines(
  head: string,
  start: number,
  end: number,
  maxFields: number,
): { fields: HeaderFields; count: number } | { error: string; tooMany?: true } {
  const fields: HeaderFields = headerRecord();
  let count = 0;
  let pos = start;
  while (pos < end) {
    let eol = head.indexOf("\r\n", pos);
    if (eol < 0 || eol > end) eol = end;
    const first = head.charCodeAt(pos);
    if (first === 32 || first === 9) return { error: "obsolete line folding in a header is not allowed" };
    const colon = head.indexOf(":", pos);
    if (colon < 0 || colon > eol) return { error: "a header line has no ':'" };
    const name = head.slice(pos, colon);
    const kind = tokenKind(name);
    if (kind === 0) return { error: `invalid header name ${JSON.stringify(name.slice(0, 64))}` };
    let a = colon + 1;
    let b = eol;
    while (a < b && (head.charCodeAt(a) === 32 || head.charCodeAt(a) === 9)) a++;
    while (b > a && (head.charCodeAt(b - 1) === 32 || head.charCodeAt(b - 1) === 9)) b--;
    const value = head.slice(a, b);
    if (!validValue(value))
      return { error: `header ${name.slice(0, 64)} has a control character in its value` };
    if (++count > maxFields) return { error: `more than ${maxFields} header fields`, tooMany: true };
    const key = kind === 1 ? name.toLowerCase() : name;
    const prev = fields[key];
    fields[key] = prev === undefined ? value : `${prev}, ${value}`;
    pos = eol + 2;
  }
  return { fields, count };
}

/**
 * A Content-Length value as a byte count: digits only; a list of identical values (`5, 5`, from
 * repeated fields) counts once. Undefined when invalid (differing values, signs, spaces, too big).
 */
export function parseContentLength(value: string): number | undefined {
  let result: number | undefined;
  for (const part of value.split(",")) {
    const v = trimOws(part);
    if (v.length === 0 || v.length > 15) return undefined;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    const n = Number(v);
    if (result !== undefined && n !== result) return undefined;
    result = n;
  }
  return result;
}

/** True when the comma list `value` contains `token` (case-insensitive), e.g. Connection: close. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(",")) if (trimOws(part).toLowerCase() === token) return true;
  return false;
}
