/**
 * The demo's baseline: what a plain Kubernetes Service gives — each request goes to the next
 * endpoint in turn, with no queueing, no priority and no load awareness. Bodies and responses
 * (including SSE streams) pass through untouched.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** A running round-robin proxy. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (port 0 = any free port) over endpoint base URLs (`http://host:port`). */
export async function startRoundRobinProxy(endpoints: readonly string[], port = 0): Promise<RoundRobinProxy> {
  if (endpoints.length === 0) throw new Error("round-robin proxy needs at least one endpoint");
  const targets = endpoints.map((e) => new URL(e));
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  let next = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = targets[next++ % targets.length]!;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: { message: e.message, type: "upstream_error", param: null, code: "upstream_failure" },
          }),
        );
      } else res.destroy();
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
