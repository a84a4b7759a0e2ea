import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { emptyMetrics } from "../../src/modelserver/endpoint-metrics.ts";
import { EndpointScraper } from "../../src/modelserver/endpoint-scraper.ts";

/** A fake model server whose /metrics answer the test controls. */
async function fakeServer(): Promise<{
  server: Server;
  port: number;
  state: { status: number; body: string; hang: boolean; hits: number };
}> {
  const state = { status: 200, body: "", hang: false, hits: 0 };
  const server = createServer((req, res) => {
    state.hits++;
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    if (state.hang) return; // never answers
    res.writeHead(state.status, { "content-type": "text/plain" }).end(state.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, state };
}

const page = (waiting: number) => `vllm:num_requests_waiting ${waiting}
vllm:num_requests_running 2
vllm:kv_cache_usage_perc 0.5
`;

test("a scrape writes the endpoint's record with the in-flight baseline; a failure leaves updatedAt to age", async (t) => {
  const { server, port, state } = await fakeServer();
  t.after(() => server.close());
  const endpoint = { id: `127.0.0.1:${port}`, host: "127.0.0.1", port, labels: {} };
  const metrics = emptyMetrics();
  const inFlight = { requests: 4, tokens: 1000, kvTokens: 0 };
  let clock = 1_000_000;
  const scraper = new EndpointScraper(endpoint, { metrics, inFlight }, { timeoutMs: 300, now: () => clock });
  t.after(() => scraper.stop());

  state.body = page(3);
  const ok = await scraper.scrapeOnce();
  assert.equal(ok.ok, true);
  assert.deepEqual([metrics.waiting, metrics.running, metrics.kvCacheUsage], [3, 2, 0.5]);
  assert.equal(metrics.updatedAt, 1_000_000);
  assert.equal(metrics.inFlightRequestsAtScrape, 4);
  assert.equal(metrics.answeredAtRecentScrapes, 0, "4 in flight, 5 running or waiting: none answered");
  inFlight.requests = 12; // 12 in flight, 5 there: 7 answered or on the way
  await scraper.scrapeOnce();
  assert.equal(metrics.answeredAtRecentScrapes, 7);
  inFlight.requests = 5;
  await scraper.scrapeOnce();
  assert.equal(metrics.answeredAtRecentScrapes, 7, "the most of the recent scrapes, not the last one");

  clock += 5000;
  state.status = 500;
  const failed = await scraper.scrapeOnce();
  assert.equal(failed.ok, false);
  assert.match(failed.error!, /HTTP 500/);
  assert.equal(metrics.updatedAt, 1_000_000, "failure does not refresh");

  state.status = 200;
  state.body = "garbage";
  assert.match((await scraper.scrapeOnce()).error!, /metrics page lacks/);

  state.hang = true;
  assert.match((await scraper.scrapeOnce()).error!, /timed out after 300 ms/);
  assert.equal(scraper.failed, 3);
  assert.equal(scraper.succeeded, 3);
});

test("the loop polls repeatedly, follows changes and stops cleanly", async (t) => {
  const { server, port, state } = await fakeServer();
  t.after(() => server.close());
  const endpoint = { id: `127.0.0.1:${port}`, host: "127.0.0.1", port, labels: {} };
  const metrics = emptyMetrics();
  const outcomes: boolean[] = [];
  const scraper = new EndpointScraper(
    endpoint,
    { metrics, inFlight: { requests: 0, tokens: 0, kvTokens: 0 } },
    { intervalMs: 10, onScrape: (o) => outcomes.push(o.ok) },
  );
  state.body = page(1);
  scraper.start();
  const deadline = Date.now() + 20_000;
  while (outcomes.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(outcomes.length >= 3, "polled at least 3 times");
  assert.equal(metrics.waiting, 1);
  state.body = page(9);
  const seen = outcomes.length;
  while (outcomes.length < seen + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(metrics.waiting, 9);
  await scraper.stop();
  const hits = state.hits;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(state.hits, hits, "no scrape after stop");
});

test("connection refused is reported, not thrown", async () => {
  const { server, port } = await fakeServer();
  await new Promise((r) => server.close(r));
  const endpoint = { id: `127.0.0.1:${port}`, host: "127.0.0.1", port, labels: {} };
  const scraper = new EndpointScraper(endpoint, {
    metrics: emptyMetrics(),
    inFlight: { requests: 0, tokens: 0, kvTokens: 0 },
  });
  const o = await scraper.scrapeOnce();
  await scraper.stop();
  assert.equal(o.ok, false);
  assert.match(o.error!, /ECONNREFUSED/);
});

test("an endless metrics page is cut off at 8 MiB with a clear error, and the next scrape reads again", async (t) => {
  let endless = true;
  const chunk = Buffer.alloc(1024 * 1024, "#");
  const server = createServer((_req, res) => {
    if (!endless) {
      res.writeHead(200).end(page(1));
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", more);
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const endpoint = { id: `127.0.0.1:${port}`, host: "127.0.0.1", port, labels: {} };
  const metrics = emptyMetrics();
  const scraper = new EndpointScraper(endpoint, {
    metrics,
    inFlight: { requests: 0, tokens: 0, kvTokens: 0 },
  });
  t.after(() => scraper.stop());
  const cut = await scraper.scrapeOnce();
  assert.equal(cut.ok, false);
  assert.match(cut.error!, /metrics page larger than 8 MiB/);
  endless = false;
  const again = await scraper.scrapeOnce();
  assert.equal(again.ok, true, again.error);
  assert.equal(metrics.waiting, 1);
});
