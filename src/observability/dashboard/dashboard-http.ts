/**
 * `/dashboard` over node:http: the page and its two assets (shipped in the package under
 * assets/, no CDN: a Content-Security-Policy of 'self' enforces it) and `/dashboard/events`, the
 * feed as Server-Sent Events. Any HTTP server can mount it (the gateway's, `igw epp`'s metrics
 * port, a test's): the handler answers its paths and returns false for every other one.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardFeed } from "./dashboard-feed.ts";
import type { DashboardEvent } from "./events.ts";

export interface DashboardHttpOptions {
  /** Event streams open at once (default 16); more get 503. */
  readonly maxClients?: number;
  /** A client that lets more than this many bytes pile up unread is disconnected (default 1 MiB). */
  readonly maxBufferedBytes?: number;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/dashboard": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/app.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";

const cache = new Map<string, Buffer>();

/** An asset's bytes, read once from beside this module (src/ in development, dist/ once built). */
function asset(file: string): Buffer {
  let body = cache.get(file);
  if (!body) {
    body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
    cache.set(file, body);
  }
  return body;
}

/** One SSE frame. */
export function sseFrame(e: DashboardEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Returns the request handler; it answers `/dashboard*` (GET/HEAD) and returns false for other paths. */
export function dashboardHandler(
  feed: DashboardFeed,
  options: DashboardHttpOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const maxClients = options.maxClients ?? 16;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  let clients = 0;
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    if (path !== "/dashboard" && !path.startsWith("/dashboard/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return true;
    }
    const a = ASSETS[path];
    if (a) {
      const body = asset(a.file);
      res.writeHead(200, {
        "content-type": a.type,
        "content-length": body.length,
        "cache-control": "no-cache",
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    }
    if (path !== "/dashboard/events") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return true;
    }
    if (clients >= maxClients) {
      res
        .writeHead(503, { "content-type": "text/plain", "retry-after": "5" })
        .end("too many dashboards open\n");
      return true;
    }
    clients++;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const send = (e: DashboardEvent): void => {
      if (res.writableLength > maxBuffered) {
        res.destroy();
        return;
      }
      res.write(sseFrame(e));
    };
    for (const e of feed.replay()) send(e);
    const unsubscribe = feed.subscribe(send);
    res.once("close", () => {
      clients--;
      unsubscribe();
    });
    return true;
  };
}
