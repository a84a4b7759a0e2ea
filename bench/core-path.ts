/**
 * The core's cost per request without any socket: one exchange from begin to end (parse, route,
 * resolve, admit, schedule, in-flight, response head, relay of one JSON body, metrics and hooks),
 * in a loop, for the seed's pool (queueing + scorer profile) and a plain pool. CPU time from
 * process.cpuUsage(), so the figure holds on a loaded machine better than wall time does.
 *
 * The seed's pool is also measured with the dashboard open: one idle page connected to the same
 * handler the gateway mounts (its events framed as SSE and written to a reply that takes them), in
 * rounds alternating with the page closed on the same director, so both see the same JIT state;
 * the medians' ratio is the page's cost. The feed ticks every TICK_EVERY requests, as the gateway's
 * 1 s tick would at that many requests a second (what `igw serve` sustains here, bench:proxy), so
 * each request carries its share of the tick's work and of the 20 decisions a tick explains.
 *
 *   npm run bench:core [-- --requests 200000]
 *
 * Run it under `node --cpu-prof` to see where each microsecond goes.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/file-source.ts";
import { Datastore } from "../src/datastore/datastore.ts";
import { GatewayDashboardFeed } from "../src/observability/dashboard/dashboard-feed.ts";
import { type DashboardReply, dashboardHandler } from "../src/observability/dashboard/dashboard-http.ts";
import { GatewayMetrics } from "../src/observability/gateway-metrics.ts";
import { SchedulerMetrics } from "../src/observability/scheduler-metrics.ts";
import { Director } from "../src/requestcontrol/director.ts";

const { values: args } = parseArgs({ options: { requests: { type: "string", default: "200000" } } });
const N = Number(args.requests);
/** Requests per dashboard tick (the gateway ticks once a second). */
const TICK_EVERY = 5000;

const BODY = Buffer.from(JSON.stringify({ model: "qwen", prompt: "Hello there", max_tokens: 1 }));
const HEADERS = {
  host: "127.0.0.1:8081",
  "content-type": "application/json",
  "content-length": String(BODY.length),
  "user-agent": "bench",
};
const UPSTREAM_HEADERS = {
  "content-type": "application/json",
  "content-length": "150",
  date: "x",
  server: "uvicorn",
};
const RESPONSE = Buffer.from(
  '{"id":"cmpl-1","object":"text_completion","created":1,"model":"qwen","choices":[{"index":0,"text":" world","finish_reason":"length"}],"usage":{"prompt_tokens":2,"total_tokens":3,"completion_tokens":1}}',
);

/** Median of a few numbers. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** An idle page on the dashboard's event stream: takes every byte; `close()` is the page leaving. */
function idlePage(): { reply: DashboardReply; bytes: () => number; close: () => void } {
  let bytes = 0;
  let onClose = (): void => {};
  return {
    reply: {
      writeHead: () => {},
      write: (chunk) => {
        bytes += chunk.length;
        return true;
      },
      end: () => {},
      destroy: () => {},
      onceDrain: () => {},
      onClose: (fn) => {
        onClose = fn;
      },
    },
    bytes: () => bytes,
    close: () => onClose(),
  };
}

async function measure(label: string, manifests: string[], dashboardRounds = 0): Promise<void> {
  const datastore = new Datastore(loadConfig(manifests, { defaultPort: 8081 }));
  datastore.apply(
    datastore.config,
    Array.from({ length: 5 }, (_, i) => ({ host: `10.0.0.${i + 1}`, labels: { app: "qwen" } })),
  );
  // Fresh, idle scraped metrics (the scraper would write these every 50 ms).
  for (const e of datastore.endpoints()) e.metrics.updatedAt = Date.now() + 3_600_000;
  const metrics = new GatewayMetrics(datastore);
  const director = new Director(datastore, {
    flowControlMetrics: metrics.flowControl,
    schedulerMetrics: new SchedulerMetrics(metrics.registry),
  });
  metrics.subscribe(director.hooks);
  const entry = { kind: "listeners" as const, listenerKeys: datastore.config.listeners.map((l) => l.key) };
  const one = async (): Promise<void> => {
    const ex = director.begin({ method: "POST", url: "/v1/completions", headers: HEADERS }, entry);
    const d = await ex.decide(BODY);
    ex.attempt(d.endpoints[0]!);
    ex.responseStarted(200, UPSTREAM_HEADERS);
    ex.responseChunk(RESPONSE);
    ex.responseEnd();
    ex.end();
  };
  /** CPU and wall µs per request over `n` requests, calling `tick` every TICK_EVERY. */
  const run = async (n: number, tick?: () => void): Promise<{ cpu: number; wall: number }> => {
    const t0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < n; i++) {
      await one();
      if (tick && i % TICK_EVERY === TICK_EVERY - 1) tick();
    }
    const cpu = process.cpuUsage(t0);
    return { cpu: (cpu.user + cpu.system) / n, wall: ((performance.now() - w0) * 1000) / n };
  };
  const line = (what: string, r: { cpu: number; wall: number }) =>
    console.log(`${what.padEnd(52)} ${r.cpu.toFixed(2)} µs CPU per request (${r.wall.toFixed(2)} µs wall)`);
  for (let i = 0; i < 20_000; i++) await one(); // warm-up
  if (dashboardRounds === 0) {
    line(label, await run(N));
    director.close();
    return;
  }
  // What createDashboard builds, with the feed's timer out of the way (ticks come from `run`).
  const feed = new GatewayDashboardFeed(
    {
      datastore,
      hooks: director.hooks,
      flowControl: metrics.flowControl,
      explain: (wanted) => director.explainWhile(wanted),
    },
    { tickMs: 3_600_000 },
  );
  const handle = dashboardHandler(feed);
  const closed: number[] = [];
  const open: number[] = [];
  let sent = 0;
  for (let round = 0; round < 2 * dashboardRounds; round++) {
    const page = round % 2 === 1 ? idlePage() : undefined;
    if (page) handle({ method: "GET", url: "/dashboard/events" }, page.reply);
    const r = await run(Math.ceil(N / dashboardRounds), page ? () => feed.tick() : undefined);
    (page ? open : closed).push(r.cpu);
    if (page) {
      sent += page.bytes();
      page.close();
    }
  }
  feed.close();
  director.close();
  const c = median(closed);
  const o = median(open);
  console.log(`${label.padEnd(52)} ${c.toFixed(2)} µs CPU per request (median of ${closed.length} rounds)`);
  console.log(
    `${"  the same, dashboard open (one idle page)".padEnd(52)} ${o.toFixed(2)} µs CPU per request ` +
      `(median of ${open.length}; ${(sent / 1024).toFixed(0)} KiB of events sent)`,
  );
  console.log(`dashboard open / closed: ${(o / c).toFixed(3)}`);
}

const seed = fileURLToPath(new URL("../examples/seed", import.meta.url));
const plain = fileURLToPath(new URL("overhead-manifests.yaml", import.meta.url));
console.log(`core path, ${N} requests each, Node ${process.version}`);
await measure("seed pool (queueing, scorer profile)", [seed], 8);
await measure("plain pool (legacy admitter, decision tree)", [plain]);
