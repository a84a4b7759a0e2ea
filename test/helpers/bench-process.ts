import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");

/** Runs `igw bench ...args` as a real process from the repo root; resolves to its stdout. */
export async function runBenchProcess(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "bench", ...args], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
    timeout: 280_000,
  });
  return stdout;
}

/** The one saved result JSON in `dir` (asserts there is exactly one). */
export function readResultJson(dir: string): Record<string, unknown> {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  assert.equal(files.length, 1, `one result file in ${dir}: ${files.join(", ")}`);
  return JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as Record<string, unknown>;
}

/** The simulator the bench integration tests drive: one instant replica serving qwen and travel-helper. */
export const BENCH_SIM_ARGS = [
  "--model",
  "qwen",
  "--served-model-name",
  "qwen",
  "travel-helper",
  "--profile",
  "instant",
  "--max-model-len",
  "8192",
];
