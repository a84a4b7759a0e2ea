/**
 * `igw demo` end to end at a tiny scale: real sim, gateway and benchmark, the vLLM-style report,
 * the comparison table with the seed's figures, and the chart files.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

/** Runs `igw demo` at the tests' tiny scale with `args`, its files under `out`; resolves with stdout. */
async function demo(out: string, args: readonly string[]): Promise<string> {
  const tiny = ["--num-prompts", "6", "--length-scale", "0.01", "--time-scale", "5", "--out", out];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "demo", ...tiny, ...args],
    { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

test("igw demo runs the seed's set-up and reports the comparison and targets", async () => {
  const out = mkdtempSync(join(tmpdir(), "igw-demo-test-"));
  try {
    const stdout = await demo(out, ["--no-critical-alone"]);
    assert.match(stdout, /--served-model-name \/model\/qwen qwen/);
    assert.match(stdout, /=+ Class qwen \(model=qwen\) =+/);
    assert.match(stdout, /=+ Class travel-helper \(model=travel-helper\) =+/);
    assert.match(stdout, /Successful requests: +6/);
    assert.match(stdout, /seed \(ACK, published\)/);
    assert.match(stdout, /\[(PASS|FAIL)\] every request of both classes succeeds/);
    assert.match(stdout, /round robin, no gateway \(baseline\)/);
    assert.ok(existsSync(join(out, "demo-ttft.png")));
    assert.match(readFileSync(join(out, "demo-ttft.svg"), "utf8"), /<svg/);
    assert.match(readFileSync(join(out, "demo-summary.md"), "utf8"), /\| Critical \/ Standard mean TTFT \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("igw demo --engine-priority adds a phase with the servers on vLLM's priority policy, Standard first", async () => {
  const out = mkdtempSync(join(tmpdir(), "igw-demo-engine-"));
  try {
    const stdout = await demo(out, ["--no-baseline", "--engine-priority"]);
    // The seed's own arguments are the servers' default: the policy flag appears only in the extra phase.
    assert.doesNotMatch(stdout.split("\n").find((l) => l.includes("servers: igw sim"))!, /scheduling-policy/);
    assert.match(stdout, /--- engine priority \(--scheduling-policy priority\), Standard 1 s first ---/);
    // The gateway sends Critical with priority -1, which a server without the policy refuses with 400: all 12 succeed.
    assert.match(
      stdout,
      /Engine priority \(.*\): Critical mean TTFT [\d.]+ ms = [\d.]+ × Critical alone \(target ≤ 1\.1\), Standard [\d.]+ ms; 12\/12 succeeded/,
    );
    assert.match(readFileSync(join(out, "demo-summary.md"), "utf8"), /Engine priority \(/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
