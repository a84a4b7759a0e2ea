import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { emptyMetrics } from "../../src/modelserver/endpoint-metrics.ts";
import { EndpointScraper } from "../../src/modelserver/endpoint-scraper.ts";
import { ENGINE_MAPPINGS } from "../../src/modelserver/engine-mappings.ts";
import { scanPrometheusText } from "../../src/modelserver/prom-text-scanner.ts";
import { startSimulator } from "../../src/sim/index.ts";

const vllm = ENGINE_MAPPINGS.get("vllm")!;
const filterQuery = (names: readonly string[]) =>
  names.map((n) => `name%5B%5D=${encodeURIComponent(n)}`).join("&");
const loadOf = (text: string) => vllm.extract(scanPrometheusText(text, vllm.families, { buckets: false }));

test("the simulator's filtered page (prometheus_client's name[]) gives the vLLM mapping the same load as the whole page", async (t) => {
  const sim = await startSimulator({
    port: 0,
    model: "/models/x",
    servedModelName: ["qwen"],
    profile: "a10-7b",
    timeScale: 50,
    enableLora: true,
    loraModules: [{ name: "travel", path: "/models/travel" }],
  });
  t.after(() => sim.close());
  const url = sim.urls[0]!;
  const body = (model: string) =>
    JSON.stringify({ model, prompt: "a b c d e f g h i j k l m n o p", max_tokens: 3, ignore_eos: true });
  for (const model of ["qwen", "travel", "qwen"]) {
    const r = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(model),
    });
    assert.equal(r.status, 200, await r.text());
  }
  const whole = await (await fetch(`${url}/metrics`)).text();
  const filtered = await (await fetch(`${url}/metrics?${filterQuery(vllm.sampleNames!)}`)).text();
  assert.ok(filtered.length * 5 < whole.length, `filtered ${filtered.length} B, whole ${whole.length} B`);
  assert.doesNotMatch(filtered, /_bucket/);
  assert.match(filtered, /^# HELP vllm:num_requests_running /m, "a kept family keeps its HELP and TYPE");
  assert.doesNotMatch(filtered, /# HELP vllm:e2e_request_latency_seconds/, "a dropped family loses them");
  const a = loadOf(whole);
  const b = loadOf(filtered);
  assert.deepEqual(b, a);
  assert.ok(
    a.counters !== undefined && a.counters.prefilledRequests === 3,
    "the cost-model counters were read",
  );
  assert.ok(a.maxActiveAdapters > 0 && a.numGpuBlocks !== undefined, "LoRA and cache info were read");
});

/** A model server whose /metrics the test controls; `filters` says how it treats `?name[]=`. */
async function pageServer(
  filters: "honours" | "empty-page" | "server-error",
): Promise<{ server: Server; port: number; urls: string[] }> {
  const urls: string[] = [];
  const whole = `# HELP vllm:num_requests_waiting x
vllm:num_requests_waiting 3
vllm:num_requests_running 2
vllm:kv_cache_usage_perc 0.5
vllm:e2e_request_latency_seconds_bucket{le="1.0"} 7
`;
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    urls.push(url);
    if (!url.startsWith("/metrics")) {
      res.writeHead(404).end();
      return;
    }
    if (url === "/metrics") {
      res.writeHead(200).end(whole);
      return;
    }
    if (filters === "server-error") res.writeHead(503).end();
    else if (filters === "empty-page")
      res.writeHead(200).end(""); // prometheus_client in multiprocess mode
    else {
      const keep = new Set(new URL(url, "http://x").searchParams.getAll("name[]"));
      res.writeHead(200).end(
        whole
          .split("\n")
          .filter((l) => keep.has(l.split(/[{ ]/)[0]!))
          .join("\n"),
      );
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, urls };
}

function scraperFor(port: number) {
  const endpoint = { id: `127.0.0.1:${port}`, host: "127.0.0.1", port, labels: {} };
  const metrics = emptyMetrics();
  return {
    metrics,
    scraper: new EndpointScraper(endpoint, { metrics, inFlight: { requests: 0, tokens: 0, kvTokens: 0 } }),
  };
}

test("the scraper asks a vLLM endpoint for the mapping's samples only, and keeps doing so", async (t) => {
  const { server, port, urls } = await pageServer("honours");
  t.after(() => server.close());
  const { metrics, scraper } = scraperFor(port);
  t.after(() => scraper.stop());
  assert.equal((await scraper.scrapeOnce()).ok, true);
  assert.equal((await scraper.scrapeOnce()).ok, true);
  assert.equal(urls.length, 2);
  for (const u of urls) {
    assert.deepEqual(new URL(u, "http://x").searchParams.getAll("name[]"), vllm.sampleNames);
  }
  assert.deepEqual([metrics.waiting, metrics.running, metrics.kvCacheUsage], [3, 2, 0.5]);
});

test("a server that answers the filter with an empty page is scraped whole from then on", async (t) => {
  const { server, port, urls } = await pageServer("empty-page");
  t.after(() => server.close());
  const { metrics, scraper } = scraperFor(port);
  t.after(() => scraper.stop());
  const first = await scraper.scrapeOnce();
  assert.equal(first.ok, true, first.error);
  assert.deepEqual([metrics.waiting, metrics.running], [3, 2]);
  assert.equal((await scraper.scrapeOnce()).ok, true);
  assert.deepEqual(
    urls.map((u) => u.split("?")[0] + (u.includes("?") ? "?…" : "")),
    ["/metrics?…", "/metrics", "/metrics"],
  );
});

test("a server error on the filtered page is reported, and does not turn the filter off", async (t) => {
  const { server, port, urls } = await pageServer("server-error");
  t.after(() => server.close());
  const { scraper } = scraperFor(port);
  t.after(() => scraper.stop());
  const o = await scraper.scrapeOnce();
  assert.equal(o.ok, false);
  assert.match(o.error!, /HTTP 503/);
  await scraper.scrapeOnce();
  assert.equal(urls.length, 2);
  assert.ok(
    urls.every((u) => u.includes("name%5B%5D=")),
    "still filtered, no whole-page retry",
  );
});
