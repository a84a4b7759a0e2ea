/**
 * Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), for request bodies from
 * clients and response bodies from engines. Payload is handed out as slices of the input (no
 * copy). Strict: hex sizes only (extensions skipped), CRLF after every chunk, bounded size lines
 * and trailers, sizes that fit a safe integer.
 */

/** Decoder states. */
const State = { Size: 0, Data: 1, DataEnd: 2, Trailer: 3, Done: 4 } as const;
type State = (typeof State)[keyof typeof State];

/** Bytes one chunk-size line (with extensions) may take. */
const MAX_SIZE_LINE = 4096;
/** Bytes the trailer section may take. */
const MAX_TRAILER = 16 * 1024;

/** A byte's value as a hex digit, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[0-9a-fA-F]/.test(ch)) HEX_VALUE[c] = Number.parseInt(ch, 16);
}

export class ChunkedDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChunkedDecodeError";
  }
}

export class ChunkedDecoder {
  #state: State = State.Size;
  /** Bytes left in the current chunk. */
  #remaining = 0;
  /** A size line or trailer line split across inputs. */
  #line = "";
  #trailerBytes = 0;
  /** CRLF bytes seen after a chunk's payload (0, 1). */
  #crlf = 0;
  readonly #onData: (payload: Buffer) => void;

  /** `onData` receives each payload slice as it is decoded (valid only during the call unless copied). */
  constructor(onData: (payload: Buffer) => void) {
    this.#onData = onData;
  }

  /** True once the last chunk and the trailers were read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Decodes `buf[start..]`; returns how many bytes belonged to the body (the rest, after the end,
   * is the next message). Throws ChunkedDecodeError on malformed input.
   */
  push(buf: Buffer, start = 0): number {
    let i = start;
    const end = buf.length;
    while (i < end && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Size: {
          if (this.#line.length === 0) {
            const next = this.#plainSizeLine(buf, i, end);
            if (next > 0) {
              i = next;
              break;
            }
          }
          const nl = buf.indexOf(10, i);
          const stop = nl < 0 ? end : nl + 1;
          this.#line += buf.toString("latin1", i, stop);
          if (this.#line.length > MAX_SIZE_LINE) throw new ChunkedDecodeError("chunk size line too long");
          i = stop;
          if (nl < 0) break;
          this.#startChunk(this.#line);
          this.#line = "";
          break;
        }
        case State.Data: {
          const n = Math.min(this.#remaining, end - i);
          this.#onData(buf.subarray(i, i + n));
          this.#remaining -= n;
          i += n;
          if (this.#remaining === 0) this.#state = State.DataEnd;
          break;
        }
        case State.DataEnd: {
          // Exactly CRLF after the payload; it may arrive split.
          const c = buf[i]!;
          if (this.#crlf === 0 ? c !== 13 : c !== 10)
            throw new ChunkedDecodeError("missing CRLF after a chunk");
          i++;
          if (++this.#crlf === 2) {
            this.#crlf = 0;
            this.#state = State.Size;
          }
          break;
        }
        case State.Trailer: {
          const nl = buf.indexOf(10, i);
          const stop = nl < 0 ? end : nl + 1;
          const part = buf.toString("latin1", i, stop);
          this.#trailerBytes += part.length;
          if (this.#trailerBytes > MAX_TRAILER) throw new ChunkedDecodeError("trailer section too large");
          this.#line += part;
          i = stop;
          if (nl < 0) break;
          if (!this.#line.endsWith("\r\n")) throw new ChunkedDecodeError("bare LF in the trailer section");
          if (this.#line === "\r\n") this.#state = State.Done;
          this.#line = "";
          break;
        }
      }
    }
    return i - start;
  }

  /**
   * The common size line, `<hex>\r\n` whole in `buf`, read from the bytes (no string per chunk):
   * the index after it, or 0 for anything else (split, extensions, errors), which the general path
   * reads as before.
   */
  #plainSizeLine(buf: Buffer, from: number, end: number): number {
    let i = from;
    let size = 0;
    while (i < end && i - from < 13) {
      const d = HEX_VALUE[buf[i]!]!;
      if (d < 0) break;
      size = size * 16 + d;
      i++;
    }
    if (i === from || i + 1 >= end || buf[i] !== 13 || buf[i + 1] !== 10) return 0;
    if (size === 0) this.#state = State.Trailer;
    else {
      this.#remaining = size;
      this.#state = State.Data;
    }
    return i + 2;
  }

  #startChunk(line: string): void {
    if (!line.endsWith("\r\n")) throw new ChunkedDecodeError("bare LF after a chunk size");
    const semi = line.indexOf(";");
    const hex = (semi < 0 ? line.slice(0, -2) : line.slice(0, semi)).trimEnd();
    if (hex.length === 0 || hex.length > 13 || !/^[0-9a-fA-F]+$/.test(hex))
      throw new ChunkedDecodeError(`invalid chunk size ${JSON.stringify(hex.slice(0, 20))}`);
    const size = Number.parseInt(hex, 16);
    if (size === 0) {
      this.#state = State.Trailer;
      return;
    }
    this.#remaining = size;
    this.#state = State.Data;
  }
}
