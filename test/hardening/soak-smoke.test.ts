/**
 * `npm run bench:soak` in miniature (20 s, 2 servers): mixed traffic with client aborts, bad input
 * and hostile bodies against faulty servers ends with every gauge drained and no 5xx for bad
 * input (the benchmark's exit code says so).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SOAK = fileURLToPath(new URL("../../bench/soak.ts", import.meta.url));

test("a short soak drains every gauge and answers bad input without a 5xx", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", SOAK, "--minutes", "0.33", "--replicas", "2", "--concurrency", "8"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const [code] = (await once(child, "exit")) as [number];
  assert.equal(code, 0, out);
  assert.match(out, /bad input or hostile bodies answered 5xx: 0/);
  assert.match(
    out,
    /"inference_extension_flow_control_queue_size":0,"inference_extension_flow_control_queue_bytes":0,"inference_model_running_requests":0/,
  );
  assert.match(out, /\| hostile \| 400 request_too_complex \| \d+ \|/);
  assert.match(out, /\| good \| 200 \| \d+ \|/);
});
