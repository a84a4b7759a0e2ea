import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { tempFiles } from "../helpers/temp-dir.ts";
import { startFakeServer } from "./fake-sse-server.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const bench = (args: string[]) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/main.ts", "bench", ...args], {
    cwd: ROOT,
    timeout: 100_000,
  });

test("result files: vLLM's name, --label, --metadata at top level, --append-result adds a JSON line; warm-ups are extra", async () => {
  const s = await startFakeServer();
  const tmp = tempFiles({});
  after(async () => {
    await s.close();
    tmp.cleanup();
  });
  const common = ["--base-url", s.url, "--model", "org/m", "--served-model-name", "m", "--num-prompts", "5"];
  await bench([
    ...common,
    "--input-len",
    "4",
    "--output-len",
    "2",
    "--request-rate",
    "50",
    "--max-concurrency",
    "2",
    "--save-result",
    "--result-dir",
    tmp.dir,
    "--metadata",
    "gpu=a10",
    "tp=1",
  ]);
  const [name] = readdirSync(tmp.dir);
  assert.match(name!, /^openai-50\.0qps-concurrency2-m-\d{8}-\d{6}\.json$/);
  const json = JSON.parse(readFileSync(join(tmp.dir, name!), "utf8")) as Record<string, unknown>;
  assert.equal(json["gpu"], "a10");
  assert.equal(json["tp"], "1");
  assert.equal(json["model_id"], "org/m");
  assert.equal(json["label"], null);
  assert.ok(Object.keys(json).indexOf("gpu") < Object.keys(json).indexOf("request_rate"));
  const file = join(tmp.dir, "runs.jsonl");
  for (let i = 0; i < 2; i++) {
    await bench([
      ...common,
      "--label",
      "lab",
      "--append-result",
      "--result-filename",
      "runs.jsonl",
      "--result-dir",
      tmp.dir,
      "--num-warmups",
      "3",
    ]);
  }
  const lines = readFileSync(file, "utf8").split("\n");
  assert.equal(lines.length, 2);
  for (const l of lines) assert.equal((JSON.parse(l) as { label: string }).label, "lab");
  // 5 measured + 5 + 2 × (3 warm-ups + 5 measured): the warm-ups are not in the results.
  assert.equal(s.log.bodies.length, 5 + 2 * 8);
  assert.equal((JSON.parse(lines[0]!) as { completed: number }).completed, 5);
});

test("bad flags and class specs exit with code 2 and a message naming the flag", async () => {
  await assert.rejects(bench(["--class", "name=a,colour=red"]), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /unknown key "colour"/);
    return true;
  });
  await assert.rejects(bench(["--model", "m", "--percentile-metrics", "ttft,nope"]), /unknown metric "nope"/);
  await assert.rejects(bench(["--model", "m", "--dataset-name", "sharegpt"]), /only "random" is supported/);
  await assert.rejects(bench(["--model", "m", "--random-range-ratio", "x"]), /--random-range-ratio/);
});

test("--duration-s stops sending new requests; what was sent is all counted", async () => {
  const s = await startFakeServer();
  const tmp = tempFiles({});
  after(async () => {
    await s.close();
    tmp.cleanup();
  });
  await bench([
    "--base-url",
    s.url,
    "--model",
    "m",
    "--num-prompts",
    "200",
    "--input-len",
    "4",
    "--output-len",
    "2",
    "--request-rate",
    "20",
    "--duration-s",
    "1",
    "--save-result",
    "--result-dir",
    tmp.dir,
  ]);
  const [name] = readdirSync(tmp.dir);
  const json = JSON.parse(readFileSync(join(tmp.dir, name!), "utf8")) as {
    completed: number;
    failed: number;
  };
  assert.ok(json.completed > 3 && json.completed < 60, `completed ${json.completed}`);
  assert.equal(json.completed + json.failed, s.log.bodies.length);
});
