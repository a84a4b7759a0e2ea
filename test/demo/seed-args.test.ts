import assert from "node:assert/strict";
import { test } from "node:test";
import { readSeedDeployment } from "../../src/demo/seed-deployment.ts";
import { demoSimArgs, SERVED_NAME_FIX } from "../../src/demo/sim-args.ts";

const seed = readSeedDeployment("examples/seed/vllm-service.yaml");

test("the seed's Deployment gives the exact vllm serve arguments, 5 replicas and the pod labels", () => {
  assert.equal(seed.replicas, 5);
  assert.deepEqual(seed.labels, { app: "qwen" });
  assert.deepEqual(seed.vllmArgs.slice(0, 3), ["/models/Qwen-2.5-7B-Instruct", "--port", "8000"]);
  const joined = seed.vllmArgs.join(" ");
  for (const flag of [
    "--enable_prefix_caching",
    "--served-model-name /model/qwen",
    "--max-loras 2",
    "--max-cpu-loras 4",
  ]) {
    assert.ok(joined.includes(flag), flag);
  }
  assert.ok(joined.endsWith("travel-helper-v2=/models/Qwen-TravelHelper-Lora-v2"));
});

test("demo sim args keep the seed's flags, answer to qwen too, and add the simulator's options", () => {
  const args = demoSimArgs(seed.vllmArgs, {
    replicas: 5,
    profile: "a10-7b",
    timeScale: 2,
    kvBlocks: 500,
    maxModelLen: 820,
  });
  const joined = args.join(" ");
  assert.ok(
    joined.includes(
      `--served-model-name ${SERVED_NAME_FIX.servedAs} ${SERVED_NAME_FIX.alias} --max-model-len 820`,
    ),
  );
  assert.ok(!joined.includes("--port 8000"), "the seed's fixed port is replaced");
  assert.ok(
    joined.includes("--lora-modules travel-helper-v1=/models/Qwen-TravelHelper-Lora travel-helper-v2="),
  );
  assert.ok(
    joined.endsWith("--port 0 --replicas 5 --profile a10-7b --time-scale 2 --num-gpu-blocks-override 500"),
  );
  // Every seed flag except --port and the max-model-len value survives in order.
  const kept = seed.vllmArgs.filter(
    (a, i, all) => a !== "--port" && all[i - 1] !== "--port" && all[i - 1] !== "--max-model-len",
  );
  const withoutAdded = args.filter(
    (a, i) => !(a === SERVED_NAME_FIX.alias && args[i - 1] === SERVED_NAME_FIX.servedAs),
  );
  assert.deepEqual(
    withoutAdded.slice(0, kept.length + 1).filter((a) => a !== "820"),
    kept,
  );
});
