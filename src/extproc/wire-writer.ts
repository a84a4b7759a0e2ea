/**
 * Encodes our ProcessingResponse (the shapes of protocol.ts) to protobuf bytes, by hand: each
 * message's size is computed first, then the bytes are written into one buffer, so a body is
 * copied once. Field numbers are those of proto/ (test/extproc/wire-codec.test.ts decodes the
 * output with protobufjs on those files). Scalars equal to their default (false, 0, "") are left
 * out, as proto3 encoders do; a sub-message that is present is written even when empty, since its
 * presence selects a oneof member.
 */
import type {
  BodyMutation,
  CommonResponse,
  HeaderMutation,
  HeaderValueOption,
  ImmediateResponse,
  ProcessingResponse,
  ProtoStruct,
  ProtoValue,
} from "./protocol.ts";

/** Bytes of a varint. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field of `len` bytes (tag < 128, as all here are). */
const delimited = (len: number): number => 1 + varintSize(len) + len;

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A tag and the length of the message that follows. */
  open(field: number, len: number): void {
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(len);
  }

  bytes(field: number, b: Uint8Array): void {
    this.open(field, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string, len: number): void {
    this.open(field, len);
    this.pos += this.buf.write(s, this.pos, len, "utf8");
  }

  uint(field: number, n: number): void {
    this.buf[this.pos++] = field << 3;
    this.varint(n);
  }

  double(field: number, n: number): void {
    this.buf[this.pos++] = (field << 3) | 1;
    this.pos = this.buf.writeDoubleLE(n, this.pos);
  }
}

/**
 * One ProcessingResponse message (the bytes of one gRPC message), after `offset` bytes left
 * uninitialised for the caller (the gRPC frame prefix), so the message is not copied again.
 */
export function encodeProcessingResponse(m: ProcessingResponse, offset = 0): Buffer {
  const w = new Writer(Buffer.allocUnsafe(offset + responseSize(m)));
  w.pos = offset;
  writeResponse(w, m);
  return w.buf;
}

function responseSize(m: ProcessingResponse): number {
  let n = 0;
  if (m.requestHeaders) n += delimited(wrappedCommonSize(m.requestHeaders.response));
  if (m.responseHeaders) n += delimited(wrappedCommonSize(m.responseHeaders.response));
  if (m.requestBody) n += delimited(wrappedCommonSize(m.requestBody.response));
  if (m.responseBody) n += delimited(wrappedCommonSize(m.responseBody.response));
  if (m.requestTrailers) n += delimited(wrappedMutationSize(m.requestTrailers.headerMutation));
  if (m.responseTrailers) n += delimited(wrappedMutationSize(m.responseTrailers.headerMutation));
  if (m.immediateResponse) n += delimited(immediateSize(m.immediateResponse));
  if (m.dynamicMetadata) n += delimited(structSize(m.dynamicMetadata));
  return n;
}

function writeResponse(w: Writer, m: ProcessingResponse): void {
  const common = (field: number, c: CommonResponse | undefined) => {
    w.open(field, wrappedCommonSize(c));
    if (!c) return;
    w.open(1, commonSize(c));
    writeCommon(w, c);
  };
  const trailers = (field: number, h: HeaderMutation | undefined) => {
    w.open(field, wrappedMutationSize(h));
    if (!h) return;
    w.open(1, mutationSize(h));
    writeMutation(w, h);
  };
  if (m.requestHeaders) common(1, m.requestHeaders.response);
  if (m.responseHeaders) common(2, m.responseHeaders.response);
  if (m.requestBody) common(3, m.requestBody.response);
  if (m.responseBody) common(4, m.responseBody.response);
  if (m.requestTrailers) trailers(5, m.requestTrailers.headerMutation);
  if (m.responseTrailers) trailers(6, m.responseTrailers.headerMutation);
  if (m.immediateResponse) {
    const i = m.immediateResponse;
    w.open(7, immediateSize(i));
    writeImmediate(w, i);
  }
  if (m.dynamicMetadata) {
    w.open(8, structSize(m.dynamicMetadata));
    writeStruct(w, m.dynamicMetadata);
  }
}

/** HeadersResponse / BodyResponse: field 1, the CommonResponse. */
const wrappedCommonSize = (c: CommonResponse | undefined): number => (c ? delimited(commonSize(c)) : 0);
/** TrailersResponse: field 1, the HeaderMutation. */
const wrappedMutationSize = (h: HeaderMutation | undefined): number => (h ? delimited(mutationSize(h)) : 0);

function commonSize(c: CommonResponse): number {
  let n = 0;
  if (c.status) n += 1 + varintSize(c.status);
  if (c.headerMutation) n += delimited(mutationSize(c.headerMutation));
  if (c.bodyMutation) n += delimited(bodyMutationSize(c.bodyMutation));
  if (c.clearRouteCache) n += 2;
  return n;
}

function writeCommon(w: Writer, c: CommonResponse): void {
  if (c.status) w.uint(1, c.status);
  if (c.headerMutation) {
    w.open(2, mutationSize(c.headerMutation));
    writeMutation(w, c.headerMutation);
  }
  if (c.bodyMutation) {
    w.open(3, bodyMutationSize(c.bodyMutation));
    writeBodyMutation(w, c.bodyMutation);
  }
  if (c.clearRouteCache) w.uint(5, 1);
}

function bodyMutationSize(b: BodyMutation): number {
  if ("body" in b) return delimited(b.body.length);
  if ("clearBody" in b) return 2;
  const s = b.streamedResponse;
  return delimited((s.body.length > 0 ? delimited(s.body.length) : 0) + (s.endOfStream ? 2 : 0));
}

function writeBodyMutation(w: Writer, b: BodyMutation): void {
  if ("body" in b) w.bytes(1, b.body);
  else if ("clearBody" in b) w.uint(2, 1);
  else {
    const s = b.streamedResponse;
    w.open(3, (s.body.length > 0 ? delimited(s.body.length) : 0) + (s.endOfStream ? 2 : 0));
    if (s.body.length > 0) w.bytes(1, s.body);
    if (s.endOfStream) w.uint(2, 1);
  }
}

function mutationSize(h: HeaderMutation): number {
  let n = 0;
  for (const o of h.setHeaders ?? []) n += delimited(optionSize(o));
  for (const r of h.removeHeaders ?? []) n += delimited(Buffer.byteLength(r));
  return n;
}

function writeMutation(w: Writer, h: HeaderMutation): void {
  for (const o of h.setHeaders ?? []) {
    w.open(1, optionSize(o));
    w.open(1, headerSize(o));
    const keyLen = Buffer.byteLength(o.header.key);
    if (keyLen > 0) w.string(1, o.header.key, keyLen);
    if (o.header.rawValue.length > 0) w.bytes(3, o.header.rawValue);
    if (o.appendAction) w.uint(3, o.appendAction);
  }
  for (const r of h.removeHeaders ?? []) w.string(2, r, Buffer.byteLength(r));
}

/** HeaderValue: key (1) and raw_value (3). */
function headerSize(o: HeaderValueOption): number {
  const keyLen = Buffer.byteLength(o.header.key);
  return (
    (keyLen > 0 ? delimited(keyLen) : 0) +
    (o.header.rawValue.length > 0 ? delimited(o.header.rawValue.length) : 0)
  );
}

/** HeaderValueOption: header (1) and append_action (3). */
function optionSize(o: HeaderValueOption): number {
  return delimited(headerSize(o)) + (o.appendAction ? 1 + varintSize(o.appendAction) : 0);
}

function immediateSize(i: ImmediateResponse): number {
  const code = i.status.code;
  let n = delimited(code ? 1 + varintSize(code) : 0);
  if (i.headers) n += delimited(mutationSize(i.headers));
  if (i.body && i.body.length > 0) n += delimited(i.body.length);
  if (i.details) n += delimited(Buffer.byteLength(i.details));
  return n;
}

function writeImmediate(w: Writer, i: ImmediateResponse): void {
  const code = i.status.code;
  w.open(1, code ? 1 + varintSize(code) : 0);
  if (code) w.uint(1, code);
  if (i.headers) {
    w.open(2, mutationSize(i.headers));
    writeMutation(w, i.headers);
  }
  if (i.body && i.body.length > 0) w.bytes(3, i.body);
  if (i.details) w.string(5, i.details, Buffer.byteLength(i.details));
}

function structSize(s: ProtoStruct): number {
  let n = 0;
  for (const k in s.fields) n += delimited(entrySize(k, s.fields[k]!));
  return n;
}

function entrySize(key: string, v: ProtoValue): number {
  const keyLen = Buffer.byteLength(key);
  return (keyLen > 0 ? delimited(keyLen) : 0) + delimited(valueSize(v));
}

function writeStruct(w: Writer, s: ProtoStruct): void {
  for (const k in s.fields) {
    const v = s.fields[k]!;
    w.open(1, entrySize(k, v));
    const keyLen = Buffer.byteLength(k);
    if (keyLen > 0) w.string(1, k, keyLen);
    w.open(2, valueSize(v));
    writeValue(w, v);
  }
}

function listSize(values: readonly ProtoValue[]): number {
  let n = 0;
  for (const v of values) n += delimited(valueSize(v));
  return n;
}

/** google.protobuf.Value: its first member present (string, struct, list, number, bool, null). */
function valueSize(v: ProtoValue): number {
  if (v.stringValue !== undefined) return delimited(Buffer.byteLength(v.stringValue));
  if (v.structValue !== undefined) return delimited(structSize(v.structValue));
  if (v.listValue !== undefined) return delimited(listSize(v.listValue.values ?? []));
  if (v.numberValue !== undefined) return 9;
  if (v.boolValue !== undefined) return 2;
  if (v.nullValue !== undefined) return 2;
  return 0;
}

function writeValue(w: Writer, v: ProtoValue): void {
  if (v.stringValue !== undefined) w.string(3, v.stringValue, Buffer.byteLength(v.stringValue));
  else if (v.structValue !== undefined) {
    w.open(5, structSize(v.structValue));
    writeStruct(w, v.structValue);
  } else if (v.listValue !== undefined) {
    const values = v.listValue.values ?? [];
    w.open(6, listSize(values));
    for (const x of values) {
      w.open(1, valueSize(x));
      writeValue(w, x);
    }
  } else if (v.numberValue !== undefined) w.double(2, v.numberValue);
  else if (v.boolValue !== undefined) w.uint(4, v.boolValue ? 1 : 0);
  else if (v.nullValue !== undefined) w.uint(1, 0);
}
