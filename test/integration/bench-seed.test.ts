import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  BENCH_SIM_ARGS,
  runBenchProcess as bench,
  readResultJson as readJson,
} from "../helpers/bench-process.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** Row labels of the first result block in `text` (title, section and closing lines included). */
function rowLabels(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^=+ Serving Benchmark Result =+$/.test(l));
  const end = lines.indexOf("=".repeat(50), start);
  return lines
    .slice(start, end + 1)
    .map((l) => (l.length > 40 && l[40] === " " ? l.slice(0, 40).trimEnd() : l));
}

describe("igw bench: the seed's command line against igw sim", { timeout: 600_000 }, () => {
  let sim: SimProcess;
  let port: string;
  const tmp = tempFiles({});
  before(async () => {
    sim = await startSimProcess(BENCH_SIM_ARGS);
    port = new URL(sim.urls[0]!).port;
  });
  after(async () => {
    await sim?.stop();
    tmp.cleanup();
  });

  test("the seed's exact command line runs and prints the seed's rows in the seed's order", async () => {
    const dir = join(tmp.dir, "seed");
    // The seed's flags, verbatim, with benchmark_serving.py replaced by igw bench (plus where to save).
    const seedArgs = [
      "--backend",
      "vllm",
      "--model",
      "/models/DeepSeek-R1-Distill-Qwen-7B",
      "--served-model-name",
      "qwen",
      "--trust-remote-code",
      "--dataset-name",
      "random",
      "--random-prefix-len",
      "1000",
      "--random-input-len",
      "3000",
      "--random-output-len",
      "3000",
      "--random-range-ratio",
      "0.2",
      "--num-prompts",
      "300",
      "--max-concurrency",
      "60",
      "--host",
      "127.0.0.1",
      "--port",
      port,
      "--endpoint",
      "/v1/completions",
      "--save-result",
    ];
    // The full 300 × ~3,000-token run streams ~900k tokens (about 30 s of a core for the simulator),
    // too heavy for the shared suite: the same command line, with --num-prompts 12 appended (the
    // last occurrence wins, as with argparse). The full run is reported in docs/bench.md.
    const out = await bench([...seedArgs, "--num-prompts", "12", "--result-dir", dir]);
    const ours = rowLabels(out);
    const seed = rowLabels(readFileSync(join(ROOT, "test/bench/golden/seed-expected-qwen.txt"), "utf8"));
    // Current vLLM adds rows (Failed, concurrency, peaks) and lower-cases "Total token throughput";
    // every seed row must appear, in order.
    let at = 0;
    for (const label of seed) {
      const idx = ours.findIndex((l, i) => i >= at && l.toLowerCase() === label.toLowerCase());
      assert.ok(idx >= 0, `seed row "${label}" missing or out of order in:\n${ours.join("\n")}`);
      at = idx + 1;
    }
    const json = readJson(dir);
    assert.equal(json["completed"], 12);
    assert.equal(json["failed"], 0);
    assert.equal(json["backend"], "vllm");
    assert.equal(json["model_id"], "/models/DeepSeek-R1-Distill-Qwen-7B");
    assert.equal(json["request_rate"], "inf");
    assert.equal(json["max_concurrency"], 60);
    assert.ok((json["max_concurrent_requests"] as number) <= 60);
    // Prompt = 1000 prefix + [2400, 3600] words; output = [2400, 3600] tokens (ignore_eos).
    const inTotal = json["total_input_tokens"] as number;
    const outTotal = json["total_output_tokens"] as number;
    assert.ok(inTotal >= 12 * 3400 && inTotal <= 12 * 4600, `input ${inTotal}`);
    assert.ok(outTotal >= 12 * 2400 && outTotal <= 12 * 3600, `output ${outTotal}`);
    // The same command with --legacy-report prints exactly the seed's rows.
    const legacy = await bench([
      ...seedArgs,
      "--num-prompts",
      "20",
      "--result-dir",
      join(tmp.dir, "seed-legacy"),
      "--legacy-report",
    ]);
    assert.deepEqual(rowLabels(legacy), seed);
  });
});
