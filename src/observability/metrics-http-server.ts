/**
 * A process's metrics port on node:http (the endpoint picker's 9090): `GET /metrics` in the
 * Prometheus text format, the live dashboard on `/dashboard*` when one is given, and an
 * OpenAI-shaped 404 for anything else. No request body is read.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { nodeHttpReply } from "./dashboard/dashboard-http.ts";
import type { Dashboard } from "./dashboard/gateway-dashboard.ts";

export interface MetricsHttpServer {
  /** `http://host:port` as bound (127.0.0.1 when bound to every interface). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on host:port (0 = any free port); rejects with listen()'s error (EADDRINUSE...). */
export async function startMetricsHttpServer(
  host: string,
  port: number,
  registry: Registry,
  dashboard?: Dashboard,
): Promise<MetricsHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method === "GET" && path === "/metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`metrics could not be collected: ${e.message}\n`);
        },
      );
      return;
    }
    if (dashboard?.handle({ method: req.method ?? "GET", url: req.url ?? "/" }, nodeHttpReply(res))) return;
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: {
          message: `${path} is not served here: this port serves /metrics${dashboard ? " and /dashboard" : ""}`,
          type: "invalid_request_error",
          param: null,
          code: "not_found",
        },
      }),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
