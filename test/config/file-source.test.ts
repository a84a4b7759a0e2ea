import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { ConfigError } from "../../src/config/config-error.ts";
import type { SourceUpdate } from "../../src/config/config-source.ts";
import { FileSource } from "../../src/config/file-source.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const pool = (port: number) => `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: p}
spec:
  selector: {app: q}
  targetPortNumber: ${port}
`;

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the file source loads manifests and endpoints as one update", async () => {
  const t = tempFiles({
    "m.yaml": pool(8000),
    "eps.yaml": "endpoints:\n  - address: 10.0.0.1\n    labels: {app: q}\n",
  });
  try {
    const source = new FileSource({
      manifests: [t.path("m.yaml")],
      endpointsFile: t.path("eps.yaml"),
      defaultPort: 1,
    });
    const u = await source.load();
    assert.deepEqual(u.config.pools.get("default/p")?.targetPorts, [8000]);
    assert.deepEqual(u.endpoints, [{ host: "10.0.0.1", labels: { app: "q" } }]);
    await source.close();
    writeFileSync(t.path("eps.yaml"), "endpoints:\n  - adress: 10.0.0.1\n");
    await assert.rejects(source.load(), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /eps\.yaml:2: endpoints file: endpoints\[0\]\.address is required \(found 'adress' — a typo\?\)/,
      );
      return true;
    });
  } finally {
    t.cleanup();
  }
});

test("watching: valid changes become updates, invalid ones are rejected, close stops it", async () => {
  const t = tempFiles({ "m.yaml": pool(8000) });
  try {
    const source = new FileSource({ manifests: [t.dir], defaultPort: 1, watchIntervalMs: 20 });
    await source.load();
    // A change between load and watch is not lost.
    writeFileSync(t.path("m.yaml"), pool(8001));
    const updates: SourceUpdate[] = [];
    const rejected: Error[] = [];
    source.watch({ onUpdate: (u) => updates.push(u), onRejected: (e) => rejected.push(e) });
    await until("the first update", () => updates.length === 1);
    assert.deepEqual(updates[0]!.config.pools.get("default/p")?.targetPorts, [8001]);

    writeFileSync(t.path("m.yaml"), pool(70000));
    await until("the rejection", () => rejected.length === 1);
    assert.ok(rejected[0] instanceof ConfigError);
    assert.match(
      rejected[0].message,
      /m\.yaml:6: InferencePool default\/p: spec\.targetPortNumber must be at most 65535/,
    );
    assert.equal(updates.length, 1, "nothing is applied from an invalid change");

    assert.equal(source.reload(), false, "reload() answers synchronously");
    writeFileSync(t.path("m.yaml"), pool(8002));
    assert.equal(source.reload(), true);
    assert.deepEqual(updates.at(-1)!.config.pools.get("default/p")?.targetPorts, [8002]);

    await source.close();
    const seen = updates.length + rejected.length;
    writeFileSync(t.path("m.yaml"), pool(8003));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(updates.length + rejected.length, seen, "no handler runs after close");
  } finally {
    t.cleanup();
  }
});
