/**
 * Configuration and usage errors exit 2 in every sub-command, with one message and no stack trace
 * (docs/configuration.md, docs/simulator.md). Each case is a real `igw` process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { test } from "node:test";
import { tempFiles } from "../helpers/temp-dir.ts";

async function igw(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [status] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { status, stderr };
}

function assertUsageError(r: { status: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

const BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  "",
].join("\n");

test("igw serve: a missing option, a bad value and an alias bomb each exit 2", async () => {
  assertUsageError(await igw(["serve"]), /no configuration: pass -f FILE\|FOLDER \(manifests\) or --kube/);
  assertUsageError(
    await igw(["serve", "--kube", "--kubeconfig", "/nonexistent"]),
    /--kubeconfig \/nonexistent: no such file/,
  );
  assertUsageError(await igw(["serve", "-f", "examples/seed", "--namespace", "x"]), /need --kube/);
  assertUsageError(await igw(["serve", "--kube", "-f", "examples/seed"]), /-f and --kube are exclusive/);
  assertUsageError(
    await igw(["serve", "-f", "examples/seed", "--port", "x"]),
    /--port <n>.*expected an integer/,
  );
  const t = tempFiles({ "bomb.yaml": BOMB });
  try {
    assertUsageError(
      await igw(["serve", "-f", t.dir, "--port", "0"]),
      /bomb\.yaml:2: its aliases expand to too much data .*alias bomb/,
    );
  } finally {
    t.cleanup();
  }
});

test("igw serve and igw sim: a port in use is one line and exit 2", async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const port = String((busy.address() as { port: number }).port);
  try {
    const inUse = new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`);
    assertUsageError(
      await igw(["serve", "-f", "examples/seed", "--host", "127.0.0.1", "--port", port]),
      inUse,
    );
    assertUsageError(await igw(["sim", "--host", "127.0.0.1", "--port", port]), inUse);
  } finally {
    busy.close();
  }
});

test("igw start, sim, demo and bench: usage errors exit 2", async () => {
  assertUsageError(await igw(["start", "--replicas", "0"]), /--replicas <n>.*expected an integer in 1\.\.64/);
  assertUsageError(
    await igw(["sim", "--max-model-len", "abc"]),
    /igw sim: --max-model-len: expected a number/,
  );
  assertUsageError(await igw(["demo", "--num-prompts", "0"]), /--num-prompts must be a whole number > 0/);
  assertUsageError(
    await igw(["demo", "--seed-dir", "test/no-such-dir"]),
    /igw demo: invalid configuration .*\n.*test\/no-such-dir: ENOENT/,
  );
  assertUsageError(await igw(["bench", "--port", "abc"]), /--port: expected an integer >= 0/);
  assertUsageError(await igw(["frobnicate"]), /unknown command 'frobnicate'/);
});

test("zod's wording does not reach users from any layer (here: an EndpointPickerConfig)", async () => {
  const t = tempFiles({
    "epp.yaml": [
      "apiVersion: inference.networking.x-k8s.io/v1alpha1",
      "kind: EndpointPickerConfig",
      "plugins:",
      "- type: queue-scorer",
      "schedulingProfiles:",
      "- name: default",
      "  plugins:",
      "  - pluginRef: queue-scorer",
      "    weight: abc",
      "",
    ].join("\n"),
  });
  try {
    const r = await igw(["serve", "-f", t.dir, "--port", "0"]);
    assertUsageError(
      r,
      /epp\.yaml:9: EndpointPickerConfig: schedulingProfiles\[0\]\.plugins\[0\]\.weight must be a number \(found 'abc'\)/,
    );
    assert.doesNotMatch(r.stderr, /Invalid input|expected number, received/);
  } finally {
    t.cleanup();
  }
});
