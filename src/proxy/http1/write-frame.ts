/**
 * One write per message part: text before (a head, a chunk-size line), bytes, text after (CRLF,
 * the last chunk), copied into a single Buffer when small so the socket gets one plain write
 * instead of a corked writev (node's writev path allocates several arrays per call; measured as
 * the largest allocator of the request path). Large payloads are corked, never copied.
 */
import type { Socket } from "node:net";

/** Up to this many bytes in all, the parts are copied into one buffer. */
const COALESCE_BYTES = 16 * 1024;

/** Writes `before`, `data`, `after` as one write; returns false when the socket wants a drain. */
export function writeFrame(socket: Socket, before: string, data: Buffer | undefined, after: string): boolean {
  const dataLength = data?.length ?? 0;
  const beforeLength = before.length;
  const total = beforeLength + dataLength + after.length;
  if (total === 0) return !socket.writableNeedDrain;
  if (total <= COALESCE_BYTES) {
    const buf = Buffer.allocUnsafe(total);
    if (beforeLength > 0) buf.write(before, 0, "latin1");
    if (dataLength > 0) data!.copy(buf, beforeLength);
    if (after.length > 0) buf.write(after, beforeLength + dataLength, "latin1");
    return socket.write(buf);
  }
  socket.cork();
  if (beforeLength > 0) socket.write(before, "latin1");
  if (dataLength > 0) socket.write(data!);
  if (after.length > 0) socket.write(after, "latin1");
  socket.uncork();
  return !socket.writableNeedDrain;
}

const HEX_DIGITS = Buffer.from("0123456789abcdef");

/**
 * One chunk of the chunked coding, `<hex size>\r\n<data>\r\n`, as one write built from bytes (the
 * per-chunk path of a streamed response: no strings). `data` must not be empty (that is the last
 * chunk). Returns false when the socket wants a drain.
 */
export function writeChunk(socket: Socket, data: Buffer): boolean {
  const n = data.length;
  let digits = 1;
  for (let v = n >>> 4; v > 0; v >>>= 4) digits++;
  const total = digits + 2 + n + 2;
  if (total > COALESCE_BYTES) return writeFrame(socket, `${n.toString(16)}\r\n`, data, "\r\n");
  const buf = Buffer.allocUnsafe(total);
  for (let i = digits - 1, v = n; i >= 0; i--, v >>>= 4) buf[i] = HEX_DIGITS[v & 15]!;
  buf[digits] = 13;
  buf[digits + 1] = 10;
  buf.set(data, digits + 2);
  buf[total - 2] = 13;
  buf[total - 1] = 10;
  return socket.write(buf);
}
