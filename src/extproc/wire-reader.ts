/**
 * Decodes Envoy's ProcessingRequest from protobuf bytes, by hand, into the shapes of protocol.ts
 * (what @grpc/proto-loader gives with test/helpers/extproc-proto.ts's options: camelCase, oneof names, enums as
 * numbers, bytes as Buffers sharing the message's memory, fields absent when not on the wire).
 * Field numbers are those of proto/ (test/extproc/wire-codec.test.ts checks both against
 * protobufjs on those files). Unknown fields are skipped; malformed input throws a RangeError.
 */
import type {
  HeaderMap,
  HeaderValue,
  HttpBody,
  HttpHeaders,
  HttpTrailers,
  ProcessingRequest,
  ProtocolConfiguration,
  ProtoStruct,
  ProtoValue,
} from "./protocol.ts";

/** A cursor over `buf` up to `end`. */
class Reader {
  readonly buf: Buffer;
  readonly end: number;
  pos: number;
  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("protobuf: truncated varint");
      const b = this.buf[this.pos++]!;
      // Beyond 2^53 precision is lost; no field read here carries such values.
      result += shift < 28 ? (b & 0x7f) << shift : (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new RangeError("protobuf: varint too long");
    }
  }

  /** The next length-delimited field as a sub-reader; the cursor moves past it. */
  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new RangeError("protobuf: length beyond the message");
    this.pos = start + len;
    return new Reader(this.buf, start, start + len);
  }

  bytes(): Buffer {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    const r = this.sub();
    return this.buf.toString("utf8", r.pos, r.end);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new RangeError("protobuf: truncated double");
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.sub();
    else if (wireType === 5) this.pos += 4;
    else throw new RangeError(`protobuf: unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new RangeError("protobuf: field beyond the message");
  }
}

const REQUEST_KINDS = [
  "requestHeaders",
  "responseHeaders",
  "requestBody",
  "responseBody",
  "requestTrailers",
  "responseTrailers",
] as const;

/** One ProcessingRequest message (the bytes of one gRPC message). */
export function decodeProcessingRequest(buf: Buffer): ProcessingRequest {
  const r = new Reader(buf, 0, buf.length);
  const m: ProcessingRequest = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    if ((tag & 7) === 2 && field >= 2 && field <= 7) {
      // The `request` oneof: headers (2, 3), body (4, 5), trailers (6, 7), request side first.
      const kind = REQUEST_KINDS[field - 2]!;
      const sub = r.sub();
      m.request = kind;
      (m as Record<string, unknown>)[kind] =
        field <= 3 ? httpHeaders(sub) : field <= 5 ? httpBody(sub) : httpTrailers(sub);
      continue;
    }
    switch (tag) {
      case (8 << 3) | 2: {
        const filterMetadata = metadata(r.sub());
        m.metadataContext = filterMetadata ? { filterMetadata } : {};
        break;
      }
      case (9 << 3) | 2: {
        const [k, v] = structEntry(r.sub());
        m.attributes = m.attributes ?? {};
        m.attributes[k] = v;
        break;
      }
      case (10 << 3) | 0:
        m.observabilityMode = r.varint() !== 0;
        break;
      case (11 << 3) | 2:
        m.protocolConfig = protocolConfig(r.sub());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return m;
}

function httpHeaders(r: Reader): HttpHeaders {
  const h: HttpHeaders = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) h.headers = headerMap(r.sub());
    else if (tag === ((3 << 3) | 0)) h.endOfStream = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return h;
}

function httpBody(r: Reader): HttpBody {
  const b: HttpBody = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) b.body = r.bytes();
    else if (tag === ((2 << 3) | 0)) b.endOfStream = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return b;
}

function httpTrailers(r: Reader): HttpTrailers {
  const t: HttpTrailers = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) t.trailers = headerMap(r.sub());
    else r.skip(tag & 7);
  }
  return t;
}

function headerMap(r: Reader): HeaderMap {
  const headers: HeaderValue[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) headers.push(headerValue(r.sub()));
    else r.skip(tag & 7);
  }
  return headers.length > 0 ? { headers } : {};
}

function headerValue(r: Reader): HeaderValue {
  const h: HeaderValue = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) h.key = r.string();
    else if (tag === ((2 << 3) | 2)) h.value = r.string();
    else if (tag === ((3 << 3) | 2)) h.rawValue = r.bytes();
    else r.skip(tag & 7);
  }
  return h;
}

function protocolConfig(r: Reader): ProtocolConfiguration {
  const c: ProtocolConfiguration = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 0)) c.requestBodyMode = r.varint();
    else if (tag === ((2 << 3) | 0)) c.responseBodyMode = r.varint();
    else if (tag === ((3 << 3) | 0)) c.sendBodyWithoutWaitingForHeaderResponse = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return c;
}

/** envoy.config.core.v3.Metadata: its filter_metadata map, undefined when empty. */
function metadata(r: Reader): Record<string, ProtoStruct> | undefined {
  let out: Record<string, ProtoStruct> | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) {
      const [k, v] = structEntry(r.sub());
      out = out ?? {};
      out[k] = v;
    } else r.skip(tag & 7);
  }
  return out;
}

/** A map<string, google.protobuf.Struct> entry. */
function structEntry(r: Reader): [string, ProtoStruct] {
  let key = "";
  let value: ProtoStruct = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) key = r.string();
    else if (tag === ((2 << 3) | 2)) value = struct(r.sub());
    else r.skip(tag & 7);
  }
  return [key, value];
}

function struct(r: Reader): ProtoStruct {
  let fields: Record<string, ProtoValue> | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) {
      const e = r.sub();
      let key = "";
      let value: ProtoValue = {};
      while (e.pos < e.end) {
        const t = e.varint();
        if (t === ((1 << 3) | 2)) key = e.string();
        else if (t === ((2 << 3) | 2)) value = protoValue(e.sub());
        else e.skip(t & 7);
      }
      fields = fields ?? {};
      fields[key] = value;
    } else r.skip(tag & 7);
  }
  return fields ? { fields } : {};
}

function protoValue(r: Reader): ProtoValue {
  const v: ProtoValue = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0:
        v.kind = "nullValue";
        v.nullValue = r.varint();
        break;
      case (2 << 3) | 1:
        v.kind = "numberValue";
        v.numberValue = r.double();
        break;
      case (3 << 3) | 2:
        v.kind = "stringValue";
        v.stringValue = r.string();
        break;
      case (4 << 3) | 0:
        v.kind = "boolValue";
        v.boolValue = r.varint() !== 0;
        break;
      case (5 << 3) | 2:
        v.kind = "structValue";
        v.structValue = struct(r.sub());
        break;
      case (6 << 3) | 2: {
        v.kind = "listValue";
        const l = r.sub();
        const values: ProtoValue[] = [];
        while (l.pos < l.end) {
          const t = l.varint();
          if (t === ((1 << 3) | 2)) values.push(protoValue(l.sub()));
          else l.skip(t & 7);
        }
        v.listValue = values.length > 0 ? { values } : {};
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return v;
}
