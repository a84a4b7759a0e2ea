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

test("igw demo runs the seed's set-up and reports the comparison and targets", async () => {
  const out = mkdtempSync(join(tmpdir(), "igw-demo-test-"));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "demo",
        "--num-prompts",
        "6",
        "--length-scale",
        "0.01",
        "--time-scale",
        "5",
        "--no-critical-alone",
        "--out",
        out,
      ],
      { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
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
