import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { startRoundRobinProxy } from "../../src/demo/round-robin-proxy.ts";

async function backend(name: string): Promise<{ url: string; server: Server; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${name}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, bodies };
}

test("the baseline proxy sends each request to the next endpoint in turn, bodies and streams untouched", async () => {
  const backends = await Promise.all(["a", "b", "c"].map(backend));
  const proxy = await startRoundRobinProxy(backends.map((b) => b.url));
  try {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${proxy.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", prompt: `p${i}` }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      const text = await res.text();
      seen.push(text.split("\n")[0]!.slice(6));
      assert.match(text, /data: \[DONE\]/);
    }
    assert.deepEqual(seen, ["a", "b", "c", "a", "b", "c"]);
    assert.deepEqual(
      backends[0]!.bodies.map((b) => JSON.parse(b).prompt),
      ["p0", "p3"],
    );
  } finally {
    await proxy.close();
    for (const b of backends) b.server.close();
  }
});

test("an unreachable endpoint answers 502 in OpenAI error shape", async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise<void>((r) => dead.close(() => r()));
  const proxy = await startRoundRobinProxy([url]);
  try {
    const res = await fetch(`${proxy.url}/v1/completions`, { method: "POST", body: "{}" });
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, "upstream_failure");
  } finally {
    await proxy.close();
  }
});
