import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { request } from "undici";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

test("igw serve refuses an invalid manifest with file, line, field and reason", () => {
  const t = tempFiles({
    "bad.yaml":
      "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata: {name: p}\nspec:\n  selector: {app: q}\n  targetPortNumber: 70000\n",
  });
  try {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "serve", "-f", t.dir, "--port", "0"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /bad\.yaml:6: InferencePool default\/p: spec\.targetPortNumber must be at most 65535 \(found 70000\)/,
    );
    // stderr is not a terminal: the error is one JSON log line, like every other line there.
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    const rec = JSON.parse(lines[0]!) as { level: number; issues: { line: number }[] };
    assert.equal(rec.level, 60);
    assert.equal(rec.issues[0]!.line, 6);
  } finally {
    t.cleanup();
  }
});

test("igw serve runs the seed's manifests unchanged and prints where it listens", async () => {
  const gw = await startGatewayProcess(["-f", "examples/seed"]);
  try {
    const res = await request(`${gw.url}/v1/models`);
    const body = (await res.body.json()) as { data: { id: string }[] };
    assert.deepEqual(
      body.data.map((m) => m.id),
      ["qwen", "travel-helper"],
    );
    assert.match(gw.stderr(), /Deployment qwen is not used by the standalone gateway/);
  } finally {
    await gw.stop();
  }
});
