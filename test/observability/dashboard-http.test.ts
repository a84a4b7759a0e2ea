import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { request } from "undici";
import type { DashboardFeed } from "../../src/observability/dashboard/dashboard-feed.ts";
import {
  type DashboardReply,
  type DashboardRequest,
  dashboardHandler,
  nodeHttpReply,
} from "../../src/observability/dashboard/dashboard-http.ts";
import { DASHBOARD_EVENT_TYPES, type DashboardEvent } from "../../src/observability/dashboard/events.ts";
import type { Http1Reply, Http1Request } from "../../src/proxy/http1/server.ts";

/** The gateway's own server can mount the handler as it is (checked by the type-checker). */
type MountsOnTheGateway = [
  Http1Request extends DashboardRequest ? true : never,
  Http1Reply extends DashboardReply ? true : never,
];
export const mountsOnTheGateway: MountsOnTheGateway = [true, true];

/** A feed whose live events the test pushes; counts subscribers. */
class TestFeed implements DashboardFeed {
  readonly listeners = new Set<(e: DashboardEvent) => void>();
  replay(): DashboardEvent[] {
    return [{ type: "hello", at: 1, tickMs: 1000, historyTicks: 3 }];
  }
  subscribe(l: (e: DashboardEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  push(e: DashboardEvent): void {
    for (const l of this.listeners) l(e);
  }
  close(): void {}
}

const feed = new TestFeed();
let server: Server;
let base: string;

before(async () => {
  const handle = dashboardHandler(feed, { maxClients: 2, maxBufferedBytes: 64 * 1024 });
  server = createServer((req, res) => {
    if (!handle({ method: req.method ?? "", url: req.url ?? "" }, nodeHttpReply(res)))
      res.writeHead(418).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

/** Waits until `check` holds (10 ms steps, 5 s at most). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the page and its assets ship in the package, under a same-origin-only policy", async () => {
  for (const [path, type] of [
    ["/dashboard", "text/html"],
    ["/dashboard/app.js", "text/javascript"],
    ["/dashboard/app.css", "text/css"],
  ] as const) {
    const res = await request(`${base}${path}`);
    const text = await res.body.text();
    assert.equal(res.statusCode, 200, path);
    assert.match(String(res.headers["content-type"]), new RegExp(`^${type}`));
    assert.match(String(res.headers["content-security-policy"]), /default-src 'self'/);
    // (The SVG namespace is a name, not an address.)
    const rest = text.replaceAll("http://www.w3.org/2000/svg", "");
    assert.doesNotMatch(rest, /https?:\/\//, `${path} refers to nothing outside the gateway`);
  }
  const page = await (await request(`${base}/dashboard`)).body.text();
  assert.match(page, /src="\/dashboard\/app\.js"/);
});

test("the page's script handles every event type of the schema", async () => {
  const js = await (await request(`${base}/dashboard/app.js`)).body.text();
  const handlers = /const HANDLERS = \{([^}]*)\}/.exec(js)?.[1] ?? "";
  const names = [...handlers.matchAll(/(\w+):/g)].map((m) => m[1]);
  assert.deepEqual(names.sort(), [...DASHBOARD_EVENT_TYPES].sort());
});

test("other paths are not ours; unknown dashboard paths are 404 and writes 405", async () => {
  assert.equal((await request(`${base}/metrics`)).statusCode, 418);
  assert.equal((await request(`${base}/dashboardx`)).statusCode, 418);
  assert.equal((await request(`${base}/dashboard/nope`)).statusCode, 404);
  assert.equal((await request(`${base}/dashboard`, { method: "POST", body: "x" })).statusCode, 405);
});

test("events: the replay first, then live events, as SSE frames; a closed page unsubscribes", async () => {
  const ac = new AbortController();
  const res = await request(`${base}/dashboard/events`, { signal: ac.signal });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers["content-type"], "text/event-stream");
  let text = "";
  res.body.on("data", (c: Buffer) => {
    text += c.toString();
  });
  await until(() => text.includes("event: hello") && feed.listeners.size === 1);
  feed.push({ type: "traffic", at: 2, points: [] });
  await until(() => text.includes("event: traffic"));
  assert.equal(
    text,
    'retry: 2000\n\nevent: hello\ndata: {"type":"hello","at":1,"tickMs":1000,"historyTicks":3}\n\n' +
      'event: traffic\ndata: {"type":"traffic","at":2,"points":[]}\n\n',
  );
  ac.abort();
  await until(() => feed.listeners.size === 0);
});

test("at most maxClients pages at once, and a page that stops reading is dropped", async () => {
  const a = new AbortController();
  const b = new AbortController();
  await request(`${base}/dashboard/events`, { signal: a.signal });
  const slow = await request(`${base}/dashboard/events`, { signal: b.signal });
  await until(() => feed.listeners.size === 2);
  const third = await request(`${base}/dashboard/events`);
  assert.equal(third.statusCode, 503);
  await third.body.text();
  // The second page never reads: once its unread bytes pass the limit, the server disconnects it.
  slow.body.pause();
  const big = { type: "traffic", at: 3, points: Array.from({ length: 2000 }, () => ({ model: "m" })) };
  for (let i = 0; i < 200 && feed.listeners.size === 2; i++) {
    feed.push(big as unknown as DashboardEvent);
    await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => feed.listeners.size <= 1);
  a.abort();
  b.abort();
  await until(() => feed.listeners.size === 0);
});
