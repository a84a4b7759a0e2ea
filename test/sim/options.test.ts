import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSimArgs } from "../../src/sim/argv.ts";
import { loadSimConfigFile } from "../../src/sim/config-file.ts";
import { resolveSimOptions } from "../../src/sim/index.ts";

const SEED_ARGS =
  "/models/Qwen-2.5-7B-Instruct --port 8000 --enable_prefix_caching --trust-remote-code --served-model-name /model/qwen --max-model-len 8192 --gpu-memory-utilization 0.95 --enforce-eager --enable-lora --max-loras 2 --max-cpu-loras 4 --lora-modules travel-helper-v1=/models/Qwen-TravelHelper-Lora travel-helper-v2=/models/Qwen-TravelHelper-Lora-v2".split(
    " ",
  );

test("the seed's vllm serve arguments parse as given", () => {
  const p = parseSimArgs(SEED_ARGS);
  assert.equal(p.values.model, "/models/Qwen-2.5-7B-Instruct");
  assert.deepEqual(p.values.servedModelName, ["/model/qwen"]);
  assert.equal(p.values.enablePrefixCaching, true);
  assert.equal(p.values.maxModelLen, 8192);
  assert.equal(p.values.maxLoras, 2);
  assert.equal(p.values.maxCpuLoras, 4);
  assert.deepEqual(p.values.loraModules, [
    { name: "travel-helper-v1", path: "/models/Qwen-TravelHelper-Lora" },
    { name: "travel-helper-v2", path: "/models/Qwen-TravelHelper-Lora-v2" },
  ]);
  assert.deepEqual(p.ignored, ["--trust-remote-code", "--enforce-eager"]);
  assert.equal(resolveSimOptions(p.values).gpuMemoryUtilization, 0.95);
});

test("vLLM conventions: --x=v, --no-x, underscores; unknown options and bad values are clear errors", () => {
  const p = parseSimArgs(["--max_num_seqs=12", "--no-enable-prefix-caching", "--profile", "a10-7b"]);
  assert.equal(p.values.maxNumSeqs, 12);
  assert.equal(p.values.enablePrefixCaching, false);
  assert.equal(p.values.profile, "a10-7b");
  assert.throws(() => parseSimArgs(["--bogus-flag"]), /unknown option --bogus-flag/);
  assert.throws(() => parseSimArgs(["--max-num-seqs", "zero"]), /--max-num-seqs: expected a number/);
  assert.throws(
    () => parseSimArgs(["--profile", "tpu"]),
    /--profile: expected one of instant, a10-7b, h100-8b/,
  );
  assert.throws(() => parseSimArgs(["--max-model-len"]), /--max-model-len: missing value/);
  assert.throws(() => resolveSimOptions({ maxModelLen: 10_000_000 }), /larger than the KV cache/);
  assert.throws(() => resolveSimOptions({ failureTypes: ["oops"] }), /unknown type "oops"/);
});

test("--config YAML uses the same names; errors give file, line, field and reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "igw-sim-"));
  try {
    const good = join(dir, "good.yaml");
    writeFileSync(
      good,
      "profile: h100-8b\nreplicas: 2\nlora-modules:\n  - a=/p/a\nenable_lora: true\nfailure-types: [rate_limit, 500]\n",
    );
    assert.deepEqual(loadSimConfigFile(good), {
      profile: "h100-8b",
      replicas: 2,
      loraModules: [{ name: "a", path: "/p/a" }],
      enableLora: true,
      failureTypes: ["rate_limit", "500"],
    });
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "replicas: 2\n\nmax-num-seqs: -3\n");
    assert.throws(
      () => loadSimConfigFile(bad),
      (e: Error) => {
        assert.match(e.message, /bad\.yaml:3: field "max-num-seqs": --max-num-seqs: must be >= 1, got -3/);
        return true;
      },
    );
    const unknown = join(dir, "unknown.yaml");
    writeFileSync(unknown, "replicas: 2\nturbo: true\n");
    assert.throws(() => loadSimConfigFile(unknown), /unknown\.yaml:2: field "turbo": unknown option/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
