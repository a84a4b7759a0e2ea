import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startSimProcess } from "../helpers/sim-process.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function sim(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "sim", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
}

test("igw sim: an unknown option is a clear error (exit 2), nothing listens", () => {
  const r = sim(["--port", "0", "--max-num-seq", "4"]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /igw sim: unknown option --max-num-seq \(see igw sim --help\)/);
});

test("igw sim: a bad value and an inconsistent setting name the option", () => {
  const bad = sim(["--port", "0", "--time-scale", "fast"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--time-scale: expected a number, got "fast"/);
  const big = sim(["--port", "0", "--profile", "a10-7b", "--max-model-len", "100000"]);
  assert.equal(big.status, 2);
  assert.match(big.stderr, /--max-model-len 100000 is larger than the KV cache can hold/);
});

test("igw sim --help lists the options and the ignored vLLM options", () => {
  const r = sim(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--max-num-batched-tokens/);
  assert.match(r.stdout, /Accepted and ignored vLLM options: .*--trust-remote-code/);
});

test("--exit-when-dead: the process is gone once its only replica dies", async (t) => {
  const sim = await startSimProcess(["--model", "m", "--dead-after", "1", "--exit-when-dead"]);
  t.after(() => sim.stop());
  const exited = new Promise<number | null>((resolve) => sim.child.once("exit", (code) => resolve(code)));
  const post = () =>
    fetch(`${sim.urls[0]}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", prompt: "x", max_tokens: 1 }),
    });
  const ok = await post();
  assert.equal(ok.status, 200);
  await ok.json();
  await assert.rejects(post());
  assert.equal(await exited, 1);
});
