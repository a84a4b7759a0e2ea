/**
 * gRPC's message framing on an HTTP/2 stream (a 5-byte prefix: compressed flag, then the length,
 * big-endian): `MessageReader` splits the request body into messages, whatever the DATA chunks.
 */

/** A frame the server cannot take: its gRPC status code and message. */
export class FrameError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = "FrameError";
    this.code = code;
  }
}

/** gRPC status codes the framing answers with. */
export const RESOURCE_EXHAUSTED = 8;
export const UNIMPLEMENTED = 12;

export class MessageReader {
  readonly #limit: number;
  #pending: Buffer | undefined;

  /** `limit`: the largest message accepted, bytes. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The messages completed by `chunk` (views into it where possible); throws a FrameError. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    const out: Buffer[] = [];
    while (buf.length >= 5) {
      if (buf[0] !== 0)
        throw new FrameError(
          UNIMPLEMENTED,
          "compressed gRPC messages are not supported; disable compression",
        );
      const len = buf.readUInt32BE(1);
      if (len > this.#limit)
        throw new FrameError(
          RESOURCE_EXHAUSTED,
          `gRPC message of ${len} bytes exceeds the limit of ${this.#limit}`,
        );
      if (buf.length < 5 + len) break;
      out.push(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    if (buf.length > 0) this.#pending = buf;
    return out;
  }

  /** Bytes of an incomplete message held. */
  get pendingBytes(): number {
    return this.#pending?.length ?? 0;
  }
}

/** Writes the prefix of a message encoded after 5 reserved bytes of `frame`. */
export function writePrefix(frame: Buffer): Buffer {
  frame[0] = 0;
  frame.writeUInt32BE(frame.length - 5, 1);
  return frame;
}

/** A `grpc-message` trailer value: percent-encoded as gRPC requires (bytes outside 0x20–0x7E, and %). */
export function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
