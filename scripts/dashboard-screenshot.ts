// Takes the README's screenshot of the dashboard during `igw demo`: runs the demo's queueing phase
// (no baseline, no Critical-alone run), opens the gateway's /dashboard in Debian's Chromium
// (`npm run testenv -- ensure debian`) through playwright-core, waits until the page shows queued
// requests and explained decisions, and saves docs/images/dashboard-demo.png.
//
//   npm run screenshot:dashboard [-- --out docs/images/dashboard-demo.png --settle 8]
//
// `--settle`: seconds after the first queued request before the picture (the charts fill). The
// demo runs the seed's full 300 prompts a class, so the load lasts well past that.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const ROOT = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: join(ROOT, "docs/images/dashboard-demo.png") },
    settle: { type: "string", default: "8" },
  },
});

function chromiumPath(): string {
  const testenv = join(ROOT, "scripts/testenv.mjs");
  const ensure = spawnSync(process.execPath, [testenv, "ensure", "debian"], { stdio: "inherit" });
  if (ensure.status !== 0) throw new Error("npm run testenv -- ensure debian failed");
  const r = spawnSync(process.execPath, [testenv, "path", "chromium"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const executablePath = chromiumPath();
const dir = mkdtempSync(join(tmpdir(), "igw-screenshot-"));
const demo = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    join(ROOT, "src/cli/main.ts"),
    "demo",
    "--no-baseline",
    "--no-critical-alone",
    "--num-prompts",
    "300",
    "--out",
    join(dir, "demo"),
  ],
  // Its own process group, so stopping it also stops the servers and gateway it started.
  { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], detached: true },
);
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    demo.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /watch it live: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    demo.once("exit", (code) => reject(new Error(`igw demo exited (${code}) before its gateway started`)));
  });
  const context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator("#status[data-state=live]").waitFor({ timeout: 30_000 });
    await page.locator("[data-decision] table.candidates").first().waitFor({ timeout: 60_000 });
    const queued = async () =>
      (await page.locator("[data-queues] td.queued").allTextContents()).some((t) => Number(t) > 0);
    for (let i = 0; !(await queued()); i++) {
      if (i > 120) throw new Error("the page never showed a queued request");
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, Number(args.settle) * 1000));
    if ((await page.locator("#status").getAttribute("data-state")) !== "live")
      throw new Error("the demo's gateway stopped before the picture; lower --settle");
    await page.screenshot({ path: args.out, fullPage: true });
    console.log(`wrote ${args.out} (${url})`);
  } finally {
    await context.close();
  }
} finally {
  if (demo.exitCode === null) process.kill(-demo.pid!, "SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
