/**
 * The dashboard page in a real browser: Debian's Chromium (`npm run testenv -- ensure debian`)
 * driven by playwright-core loads `/dashboard` of a real gateway (the seed's manifests in front of
 * two `igw sim` replicas), shows the pool and each endpoint, fetches nothing from anywhere else,
 * raises no page error, and its numbers move under load. The page is the gateway's own `/dashboard`,
 * and the gateway runs without `--explain-decisions`: the scores it shows are explained because the
 * page is open.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { request } from "undici";
import { seedSimArgs } from "../../src/cli/start.ts";
import { type RunningGateway, startGateway } from "../../src/gateway/start-gateway.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { testTool } from "../helpers/testenv.ts";

const POOL = "default/qwen-pool";

let sim: SimProcess;
let gw: RunningGateway;
let pageUrl: string;
let context: BrowserContext;
const dir = mkdtempSync(join(tmpdir(), "igw-dashboard-"));

before(async () => {
  const args = seedSimArgs(2, "a10-7b").filter((a, i, all) => a !== "--port" && all[i - 1] !== "--port");
  sim = await startSimProcess([...args, "--max-num-seqs", "4"]);
  const endpoints = join(dir, "endpoints.yaml");
  writeFileSync(
    endpoints,
    `endpoints:\n${sim.urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: qwen}\n`).join("")}`,
  );
  gw = await startGateway({
    manifests: ["examples/seed"],
    endpointsFile: endpoints,
    port: 0,
    host: "127.0.0.1",
    watchIntervalMs: 0,
    logger: silentLogger(),
  });
  pageUrl = `${gw.url}/dashboard`;
  context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: testTool("chromium"),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await context?.close();
  await gw?.close();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Numbers of the page's cells matching `selector`, summed. */
async function sum(page: Page, selector: string): Promise<number> {
  const texts = await page.locator(selector).allTextContents();
  return texts.reduce((a, t) => a + (Number.parseFloat(t.replace(/,/g, "")) || 0), 0);
}

/** With IGW_SCREENSHOT_DIR set, saves a full-page screenshot there (to look at the page). */
async function screenshot(page: Page, name: string): Promise<void> {
  const out = process.env["IGW_SCREENSHOT_DIR"];
  if (out) await page.screenshot({ path: join(out, name), fullPage: true });
}

/** Polls `check` every 200 ms until it holds; fails naming `what` after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Streams `n` completions of `model` one after another. */
async function client(model: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(`${gw.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model,
        prompt: "Plan three days in Kyoto with a small budget",
        max_tokens: 48,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    await res.body.text();
  }
}

test("the dashboard loads offline with no page error, shows the pool and each endpoint, and moves under load", async () => {
  const page = await context.newPage();
  const errors: string[] = [];
  const elsewhere: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(new URL(pageUrl).origin)) elsewhere.push(r.url());
  });
  await page.goto(pageUrl);
  await page.locator("#status[data-state=live]").waitFor({ timeout: 15_000 });
  await page.locator(`[data-pool="${POOL}"]`).waitFor();
  for (const u of sim.urls) await page.locator(`[data-endpoint="${new URL(u).host}"]`).waitFor();
  assert.match((await page.locator("#config").textContent()) ?? "", /1 pool\(s\), 2 InferenceModel\(s\)/);
  assert.equal(await sum(page, "[data-testid=traffic-now] td.requestsPerS"), 0, "idle: no traffic yet");

  const load = Promise.all([
    ...Array.from({ length: 6 }, () => client("travel-helper", 4)),
    ...Array.from({ length: 3 }, () => client("qwen", 4)),
  ]);
  // While it runs: requests in flight on the endpoints, traffic per model and class, decisions.
  await until(
    "requests in flight on the page",
    20_000,
    async () => (await sum(page, "[data-endpoint] td.inflight")) > 0,
  );
  await page
    .locator('[data-testid=traffic-now] tr[data-series="Critical · qwen"]')
    .waitFor({ timeout: 20_000 });
  await page.locator('[data-testid=traffic-now] tr[data-series="Standard · travel-helper"]').waitFor();
  // Each flow of a band (here the client's model: no fairness id) with what it let through.
  await page.locator('[data-queues] [data-flow="travel-helper"]').first().waitFor({ timeout: 20_000 });
  await page.locator("[data-decision]").first().waitFor();
  const decision = (await page.locator("[data-decision] td.scores").first().textContent()) ?? "";
  assert.match(decision, /expected-ttft|prefix-cache/, `scores per scorer: ${decision}`);
  await screenshot(page, "dashboard-under-load.png");
  await load;

  // After the load: tokens were counted, and the page shows the TTFT of both classes in its charts.
  await until(
    "TTFT lines of both classes",
    10_000,
    async () => (await page.locator('[data-chart="ttftMeanMs"] path[data-series]').count()) >= 2,
  );
  await screenshot(page, "dashboard-after-load.png");
  assert.deepEqual(elsewhere, [], "the page fetches nothing from elsewhere");
  assert.deepEqual(errors, []);
  await page.close();
});
