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

describe("igw bench against igw sim (instant profile)", { timeout: 600_000 }, () => {
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

  test("lengths follow the sampling rule exactly for the simulator's tokenizer", async () => {
    const dir = join(tmp.dir, "lengths");
    await bench([
      "--port",
      port,
      "--model",
      "qwen",
      "--num-prompts",
      "60",
      "--random-input-len",
      "40",
      "--random-output-len",
      "20",
      "--random-prefix-len",
      "7",
      "--random-range-ratio",
      "0.5",
      "--save-result",
      "--save-detailed",
      "--result-dir",
      dir,
    ]);
    const json = readJson(dir);
    const inputs = json["input_lens"] as number[];
    const outputs = json["output_lens"] as number[];
    assert.equal(inputs.length, 60);
    for (const n of inputs) assert.ok(n >= 7 + 20 && n <= 7 + 60, `input ${n}`);
    for (const n of outputs) assert.ok(n >= 10 && n <= 30, `output ${n}`);
    assert.ok(new Set(inputs).size > 10, "inputs vary");
    assert.equal(
      json["total_input_tokens"],
      inputs.reduce((a, b) => a + b, 0),
    );
    // One word per token in the streamed text, as many as usage.completion_tokens.
    const texts = json["generated_texts"] as string[];
    for (const [i, t] of texts.entries()) assert.equal(t.trim().split(/\s+/).length, outputs[i]);
  });

  test("arrivals: a finite rate spreads sends over about n/rate seconds; the concurrency limit holds", async () => {
    const dir = join(tmp.dir, "rate");
    await bench([
      "--port",
      port,
      "--model",
      "qwen",
      "--num-prompts",
      "30",
      "--random-input-len",
      "10",
      "--random-output-len",
      "200",
      "--request-rate",
      "20",
      "--burstiness",
      "4",
      "--max-concurrency",
      "3",
      "--save-result",
      "--save-detailed",
      "--result-dir",
      dir,
      "--percentile-metrics",
      "ttft,e2el,client_queue_time",
    ]);
    const json = readJson(dir);
    assert.equal(json["completed"], 30);
    assert.equal(json["request_rate"], 20);
    assert.equal(json["burstiness"], 4);
    const starts = (json["start_times"] as number[]).slice().sort((a, b) => a - b);
    const queued = json["queue_times"] as number[];
    // Arrival n/rate = 1.5 s after t0; a send is never earlier than its arrival.
    assert.ok(starts.at(-1)! - starts[0]! >= 1.0, `spread ${starts.at(-1)! - starts[0]!}`);
    for (const q of queued) assert.ok(q >= 0);
    assert.ok((json["max_concurrent_requests"] as number) <= 3);
    for (const k of ["mean_client_queue_time_ms", "p99_client_queue_time_ms", "mean_e2el_ms"]) {
      assert.equal(typeof json[k], "number", k);
    }
  });

  test("injected failures are counted and broken down by HTTP status, per class", async () => {
    const dir = join(tmp.dir, "faults");
    const failing = await startSimProcess([
      "--model",
      "m",
      "--profile",
      "instant",
      "--failure-rate",
      "0.4",
      "--failure-types",
      "rate_limit",
      "server_error",
    ]);
    try {
      const out = await bench([
        "--base-url",
        failing.urls[0]!,
        "--model",
        "m",
        "--num-prompts",
        "50",
        "--random-input-len",
        "8",
        "--random-output-len",
        "4",
        "--save-result",
        "--result-dir",
        dir,
        "--class",
        "name=a",
        "--class",
        "name=b,header=X-Return-Error:404,num-prompts=5",
      ]);
      const json = readJson(dir);
      const classes = json["classes"] as Record<string, Record<string, unknown>>;
      const a = classes["a"]!;
      const byStatus = a["errors_by_status"] as Record<string, number>;
      const failed = a["failed"] as number;
      assert.ok(failed > 5 && failed < 40, `failed ${failed} of 50 at 40%`);
      assert.deepEqual(Object.keys(byStatus).sort(), ["429", "503"]);
      assert.equal(byStatus["429"]! + byStatus["503"]!, failed);
      assert.equal((a["completed"] as number) + failed, 50);
      assert.deepEqual(classes["b"]!["errors_by_status"], { "404": 5 });
      assert.equal(json["failed"], failed + 5);
      assert.match(
        out,
        new RegExp(`Failed by status: +429=${byStatus["429"]} 503=${byStatus["503"]} other=0`),
      );
      assert.match(out, /Failed by status: +404=5 other=0/);
    } finally {
      await failing.stop();
    }
  });

  test("a workload file runs two classes at once; JSON has aggregate keys plus classes; charts render", async () => {
    const files = tempFiles({
      "w.yaml":
        "classes:\n  - name: critical\n    model: qwen\n    concurrency: 4\n    num-prompts: 20\n    priority: 0\n" +
        "  - name: standard\n    model: travel-helper\n    concurrency: 4\n    num-prompts: 20\n    rate: 50\n",
    });
    const dir = join(tmp.dir, "workload");
    try {
      const out = await bench([
        "--port",
        port,
        "--workload",
        files.path("w.yaml"),
        "--random-input-len",
        "16",
        "--random-output-len",
        "8",
        "--save-result",
        "--result-dir",
        dir,
        "--goodput",
        "ttft:60000",
        "--scrape-metrics",
        `${sim.urls[0]}/metrics`,
        "--plot",
        join(dir, "chart.svg"),
      ]);
      assert.match(out, /=+ Class critical \(model=qwen, priority=0\) =+/);
      assert.match(out, /=+ Class standard \(model=travel-helper\) =+/);
      const json = readJson(dir);
      const keys = Object.keys(json);
      for (const k of [
        "date",
        "endpoint_type",
        "backend",
        "label",
        "model_id",
        "tokenizer_id",
        "num_prompts",
        "request_rate",
        "burstiness",
        "max_concurrency",
        "duration",
        "completed",
        "failed",
        "total_input_tokens",
        "total_output_tokens",
        "request_throughput",
        "request_goodput",
        "output_throughput",
        "total_token_throughput",
        "latencies",
        "queue_times",
        "max_output_tokens_per_s",
        "max_concurrent_requests",
        "rtfx",
        "mean_ttft_ms",
        "median_ttft_ms",
        "std_ttft_ms",
        "p99_ttft_ms",
        "mean_tpot_ms",
        "p99_itl_ms",
        "errors_by_status",
        "classes",
        "scraped_metrics",
      ]) {
        assert.ok(keys.includes(k), `missing ${k}`);
      }
      assert.equal(typeof json["date"], "string");
      assert.equal(typeof json["duration"], "number");
      assert.equal(json["completed"], 40);
      assert.equal(json["num_prompts"], 40);
      assert.equal(json["request_goodput"] !== null && typeof json["request_goodput"], "number");
      assert.ok(Array.isArray(json["latencies"]));
      const classes = json["classes"] as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(classes), ["critical", "standard"]);
      for (const c of Object.values(classes)) {
        assert.equal(c["completed"], 20);
        assert.equal(typeof c["mean_ttft_ms"], "number");
        assert.ok((c["max_concurrent_requests"] as number) <= 4);
      }
      assert.equal(classes["standard"]!["request_rate"], 50);
      const samples = json["scraped_metrics"] as Array<Record<string, unknown>>;
      assert.ok(samples.length >= 2);
      assert.equal(typeof samples[0]!["num_requests_running"], "number");
      const svg = readFileSync(join(dir, "chart.svg"), "utf8");
      assert.match(svg, /^<svg/);
      assert.match(svg, /TTFT distribution \(CDF\)/);
      assert.match(svg, /critical/);
    } finally {
      files.cleanup();
    }
  });
});
