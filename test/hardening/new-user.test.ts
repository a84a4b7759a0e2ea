/**
 * Finding 9, what a new user hit (each case a real `igw` process where it is about the CLI):
 * `igw serve` prints the address it really binds, `igw start` takes `--host` and says one line
 * (exit 2) when its port is taken, the docs run the CLI as `npx igw`, a typo in an
 * EndpointPickerConfig names the field it meant, and every dependency's install script is reviewed
 * in package.json (no `npm ci` warning).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");

/** Starts `igw args`; resolves with its stdout once `until` matches it (or the process exits). */
async function igwUntil(
  args: readonly string[],
  until: RegExp,
): Promise<{ child: ChildProcess; stdout: string; stderr: string; status: number | null }> {
  // Its own process group, so that stop() also reaches the simulator `igw start` runs.
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const matched = new Promise<void>((resolve) => {
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (until.test(stdout)) resolve();
    });
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const status = await Promise.race([matched.then(() => null), exited]);
  clearTimeout(timer);
  return { child, stdout, stderr, status };
}

/** SIGTERM to the process (it stops its own children), then SIGKILL to its group: nothing outlives the test. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // The group is gone already.
  }
}

test("igw serve prints the address it binds: 0.0.0.0 by default, the --host given otherwise", async () => {
  for (const [extra, host] of [
    [[], "0\\.0\\.0\\.0"],
    [["--host", "127.0.0.1"], "127\\.0\\.0\\.1"],
  ] as const) {
    const r = await igwUntil(["serve", "-f", "examples/seed", "--port", "0", ...extra], /listening on/);
    try {
      assert.match(r.stdout, new RegExp(`^igw serve: listening on http://${host}:\\d+$`, "m"), r.stderr);
    } finally {
      await stop(r.child);
    }
  }
});

/** `igw start` on 127.0.0.1:`port` with one instant simulated server. */
const startArgs = (port: string): string[] => [
  "start",
  "--host",
  "127.0.0.1",
  "--port",
  port,
  "--replicas",
  "1",
  "--profile",
  "instant",
  "--log-format",
  "json",
];

test("igw start --host binds there and says so; a port in use is one line and exit 2", async () => {
  const r = await igwUntil(startArgs("0"), /Send OpenAI requests/);
  try {
    assert.match(r.stdout, /^igw serve: listening on http:\/\/127\.0\.0\.1:\d+$/m, r.stderr);
  } finally {
    await stop(r.child);
  }
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const port = String((busy.address() as { port: number }).port);
  try {
    const taken = await igwUntil(startArgs(port), /Send OpenAI requests/);
    assert.equal(taken.status, 2, taken.stdout + taken.stderr);
    const fatal = taken.stderr.split("\n").filter((l) => l.includes('"level":60'));
    assert.equal(fatal.length, 1, taken.stderr);
    assert.match(
      fatal[0]!,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`),
    );
    assert.doesNotMatch(taken.stderr, /^\s+at /m, "no stack trace");
    await stop(taken.child);
  } finally {
    busy.close();
  }
});

test("the README and docs run the CLI as `npx igw` and say how to install it globally", () => {
  const files = [
    "README.md",
    ...readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), "utf8");
    const bare = text
      .split("\n")
      .filter((l) => /^\s*(\$ )?igw (serve|start|sim|demo|bench|epp)( |$)/.test(l));
    assert.deepEqual(bare, [], `${f}: a command line starting with bare 'igw' (not on PATH in a clone)`);
  }
  assert.match(readFileSync(join(ROOT, "README.md"), "utf8"), /npm install -g \./);
});

test("a misspelt EndpointPickerConfig field names the one it meant, at its line", () => {
  const t = tempFiles({
    "epp.yaml":
      "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n\noutlierDetecton: {consecutive5xx: 3}\n",
  });
  try {
    assert.throws(
      () => loadConfig([t.path("epp.yaml")], { defaultPort: 8081 }),
      /epp\.yaml:4: EndpointPickerConfig: outlierDetecton is not a known field \(did you mean 'outlierDetection'\?\)/,
    );
  } finally {
    t.cleanup();
  }
});

test("every dependency with an install script is reviewed in package.json's allowScripts (npm ci prints no warning)", (t) => {
  const r = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  if (/Unknown command|not a valid npm command/i.test(r.stdout + r.stderr)) {
    t.skip("this npm has no allowScripts (npm < 11.16)");
    return;
  }
  assert.match(r.stdout, /No packages with unreviewed install scripts/, r.stdout + r.stderr);
  const allow = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts: object })
    .allowScripts;
  assert.deepEqual(allow, { esbuild: true, zeromq: true, protobufjs: false });
});
