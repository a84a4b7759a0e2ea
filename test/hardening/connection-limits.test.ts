/**
 * Issue 13, finding 8: there was no connection cap, and nothing was logged when file descriptors
 * ran out. A real `igw serve` process refuses connections over `--max-connections` and logs it;
 * started with a low `ulimit -n`, it lowers the cap to half the limit and says so at start-up
 * (libuv closes connections silently on EMFILE, so the cap is what keeps that from happening),
 * refuses and logs the rest, keeps running, and serves again once connections close.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { connectionBudget, openFileLimit } from "../../src/gateway/connection-budget.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool}
spec: {selector: {app: t}, targetPortNumber: 8000}
`;

interface Served {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

/** `igw serve` under `ulimit -n nofile` (a shell runs it), on a free port. */
async function serve(nofile: number, args: readonly string[], dir: string): Promise<Served> {
  const cmd = [
    process.execPath,
    "--import",
    "tsx",
    MAIN,
    "serve",
    "-f",
    `${dir}/m.yaml`,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--log-format",
    "json",
    ...args,
  ]
    .map((a) => `'${a}'`)
    .join(" ");
  const child = spawn("bash", ["-c", `ulimit -n ${nofile} && exec ${cmd}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`igw serve exited with ${code}: ${err}`)));
  });
  return { child, port, stderr: () => err };
}

async function stop(s: Served): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = once(s.child, "exit");
  s.child.kill("SIGTERM");
  await exited;
}

/** Opens `n` connections (each resolves once connected or refused). */
async function openConnections(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, "127.0.0.1", () => resolve(s));
          s.on("error", () => resolve(s));
        }),
    ),
  );
}

async function healthOk(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}

async function until(what: () => boolean | Promise<boolean>, label: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await what())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("connections over --max-connections are refused and logged; the gateway serves on", async () => {
  const files = tempFiles({ "m.yaml": MANIFESTS });
  const s = await serve(20_000, ["--max-connections", "20"], files.dir);
  try {
    const sockets = await openConnections(s.port, 40);
    await until(
      () => /refused \d+ client connection\(s\).*--max-connections/.test(s.stderr()),
      "the log line",
    );
    for (const socket of sockets) socket.destroy();
    await until(() => healthOk(s.port), "/health after the connections closed");
  } finally {
    await stop(s);
    files.cleanup();
  }
});

test("a low open-file limit lowers the cap, said at start-up; running out is refused and logged", async () => {
  const files = tempFiles({ "m.yaml": MANIFESTS });
  // libuv accepts and closes silently on EMFILE: the cap is what keeps descriptors from running out.
  const s = await serve(160, ["--max-connections", "1000"], files.dir);
  try {
    const startup = s
      .stderr()
      .split("\n")
      .find((l) => l.includes("the open-file limit is 160"));
    assert.ok(startup, s.stderr());
    const logged = JSON.parse(startup) as { level: number; maxConnections: number; msg: string };
    assert.equal(logged.level, 40);
    assert.equal(logged.maxConnections, 80);
    assert.match(logged.msg, /raise it with ulimit -n/);
    const sockets = await openConnections(s.port, 300);
    await until(() => /refused \d+ client connection\(s\)/.test(s.stderr()), "the refusal line");
    assert.equal(s.child.exitCode, null, "the gateway is still running");
    for (const socket of sockets) socket.destroy();
    await until(() => healthOk(s.port), "/health after the connections closed");
  } finally {
    await stop(s);
    files.cleanup();
  }
});

test("the connection budget: the cap as asked, or half the open-file limit over the ports", () => {
  const limits =
    "Limit Soft Limit Hard Limit Units\nMax open files            1024                 4096                 files\n";
  assert.equal(openFileLimit(limits), 1024);
  assert.equal(
    openFileLimit("Max open files            unlimited            unlimited            files\n"),
    undefined,
  );
  assert.deepEqual(connectionBudget(undefined, 1, undefined), { maxConnections: 16_384 });
  assert.deepEqual(connectionBudget(100, 1, 1_048_576), { maxConnections: 100 });
  const lowered = connectionBudget(undefined, 2, 1024);
  assert.equal(lowered.maxConnections, 256);
  assert.match(
    lowered.limitedBy!,
    /open-file limit is 1024: accepting at most 256 client connections per port/,
  );
});
