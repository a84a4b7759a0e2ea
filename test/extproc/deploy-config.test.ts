// The shipped Envoy configuration is valid for the Envoy release the tests run (envoy --mode validate).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { testTool } from "../helpers/testenv.ts";

const FILE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy", "envoy", "envoy.yaml");

it("deploy/envoy/envoy.yaml passes envoy --mode validate", () => {
  const r = spawnSync(testTool("envoy"), ["--mode", "validate", "-c", FILE, "--log-level", "warning"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /configuration '.*envoy\.yaml' OK/);
});
