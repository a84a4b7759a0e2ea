import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { request } from "undici";

test("igw start runs the seed's manifests in front of simulated servers, says where to send requests, logs JSON when piped", async () => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "start",
      "--replicas",
      "2",
      "--profile",
      "instant",
      "--port",
      "0",
      "--log-level",
      "info",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /^igw serve: listening on (\S+)$/m.exec(out);
        if (m && out.includes("Gateway metrics")) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`igw start exited with ${code}`)));
    });
    assert.match(out, /2 simulated vLLM servers/);
    const res = await request(`${url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen", // Critical: admitted even while scrapes lag on a loaded test machine
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 3,
      }),
    });
    const body = (await res.body.json()) as { model: string };
    assert.equal(res.statusCode, 200);
    assert.equal(body.model, "qwen");
    // The gateway and its simulator child share stderr, which is not a terminal here: every line
    // on it is one JSON object, from both processes.
    const lines = err.split("\n").filter((l) => l !== "");
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(
      msgs.some((m) => m.startsWith("igw sim: profile=instant")),
      err,
    );
    assert.ok(msgs.includes("gateway started"), err);
  } finally {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
});
