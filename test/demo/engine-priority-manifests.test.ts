import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/file-source.ts";
import { writeEnginePriorityManifests } from "../../src/demo/engine-priority-manifests.ts";

const SEED = fileURLToPath(new URL("../../examples/seed", import.meta.url));

test("the engine-priority copy of the seed annotates its pool and leaves everything else as it was", () => {
  const out = mkdtempSync(join(tmpdir(), "igw-engine-manifests-"));
  try {
    writeEnginePriorityManifests(SEED, out);
    const seed = loadConfig([SEED], { defaultPort: 8081 });
    const copy = loadConfig([out], { defaultPort: 8081 });
    const [seedPool] = [...seed.pools.values()];
    const [pool] = [...copy.pools.values()];
    assert.equal(seedPool!.enginePriority, false, "the seed itself stays on vLLM's default policy");
    assert.equal(pool!.enginePriority, true);
    assert.equal(pool!.useQueueing, true);
    assert.deepEqual([...copy.models.get(pool!.key)!.keys()], [...seed.models.get(seedPool!.key)!.keys()]);
    // The Deployment (the servers' vLLM arguments) is copied byte for byte.
    assert.equal(
      readFileSync(join(out, "vllm-service.yaml"), "utf8"),
      readFileSync(join(SEED, "vllm-service.yaml"), "utf8"),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
