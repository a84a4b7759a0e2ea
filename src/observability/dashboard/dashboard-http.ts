/**
 * `/dashboard`: the page and its two assets (shipped in the package under assets/, no CDN: a
 * Content-Security-Policy of 'self' enforces it) and `/dashboard/events`, the feed as Server-Sent
 * Events. Any HTTP server can mount it: the gateway's own HTTP/1.1 server (its Http1Reply fits
 * DashboardReply as it is), a node:http server through `nodeHttpReply`. The handler answers its
 * paths and returns false for every other one.
 */
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { DashboardFeed } from "./dashboard-feed.ts";
import type { DashboardEvent } from "./events.ts";

/** What the handler reads of a request. */
export interface DashboardRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
}

/** What the handler needs of a response (the gateway's Http1Reply has exactly these). */
export interface DashboardReply {
  writeHead(status: number, headers: Readonly<Record<string, string | number>>): void;
  /** False when the client's socket is full. */
  write(chunk: string): boolean;
  end(chunk?: Buffer | string): void;
  destroy(): void;
  /** Runs `fn` once when the socket takes more after write() returned false. */
  onceDrain(fn: () => void): void;
  /** Runs `fn` once if the connection closes before the response finished. */
  onClose(fn: () => void): void;
}

/** A node:http response as a DashboardReply (test servers, a metrics port on node:http). */
export function nodeHttpReply(res: ServerResponse): DashboardReply {
  return {
    writeHead: (status, headers) => {
      res.writeHead(status, headers);
    },
    write: (chunk) => res.write(chunk),
    end: (chunk) => {
      if (chunk === undefined) res.end();
      else res.end(chunk);
    },
    destroy: () => {
      res.destroy();
    },
    onceDrain: (fn) => {
      res.once("drain", fn);
    },
    onClose: (fn) => {
      res.once("close", () => {
        if (!res.writableFinished) fn();
      });
    },
  };
}

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

/** A short text answer; returns true (the request was ours). */
function plain(
  res: DashboardReply,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, {
    "content-type": "text/plain",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
  return true;
}

/** One SSE frame. */
export function sseFrame(e: DashboardEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Returns the request handler; it answers `/dashboard*` (GET/HEAD) and returns false for other paths. */
export function dashboardHandler(
  feed: DashboardFeed,
  options: DashboardHttpOptions = {},
): (req: DashboardRequest, res: DashboardReply) => boolean {
  const maxClients = options.maxClients ?? 16;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  let clients = 0;
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    if (path !== "/dashboard" && !path.startsWith("/dashboard/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD")
      return plain(res, 405, "method not allowed\n", { allow: "GET, HEAD" });
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
    if (path !== "/dashboard/events") return plain(res, 404, "not found\n");
    if (clients >= maxClients) return plain(res, 503, "too many dashboards open\n", { "retry-after": "5" });
    clients++;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    // Bytes written since the socket last said it was full; past maxBuffered the page is dropped.
    let unread = 0;
    let full = false;
    let open = true;
    const write = (text: string): void => {
      if (!open) return;
      if (full) {
        unread += text.length;
        if (unread > maxBuffered) {
          open = false;
          res.destroy();
          return;
        }
      }
      if (!res.write(text) && !full) {
        full = true;
        res.onceDrain(() => {
          full = false;
          unread = 0;
        });
      }
    };
    write("retry: 2000\n\n");
    for (const e of feed.replay()) write(sseFrame(e));
    const unsubscribe = feed.subscribe((e) => write(sseFrame(e)));
    res.onClose(() => {
      open = false;
      clients--;
      unsubscribe();
    });
    return true;
  };
}
