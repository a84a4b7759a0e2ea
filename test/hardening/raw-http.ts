/** Raw HTTP/1.1 exchanges for hostile-input tests: bytes exactly as written, one response read back. */
import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  /** Lower-cased header names. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` on a fresh
 * connection; resolves with the first response once its Content-Length body is in. The gateway
 * may stop reading the rest of a refused body: write errors are ignored.
 */
export function rawRequest(port: number, head: string, body: Buffer | string = ""): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("error", () => {});
    socket.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const line of got.slice(0, end).split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (got.length < end + 4 + length) return;
      socket.destroy();
      resolve({ status: Number(got.slice(9, 12)), headers, body: got.slice(end + 4, end + 4 + length) });
    });
    socket.on("close", () => reject(new Error(`the connection closed without a full response: ${got}`)));
    socket.write(`${head}\r\n\r\n`);
    if (body.length > 0) socket.write(body);
  });
}

/** The `error.code` of an OpenAI-shaped error body. */
export function errorCode(r: RawResponse): string {
  return (JSON.parse(r.body) as { error: { code: string } }).error.code;
}
