/**
 * The gateway's TTFT tells the truth: on a saturating run (more streams than the simulated servers
 * hold, so requests wait in the gateway's queue and in the engines), the mean of
 * `inference_model_request_ttft_seconds` agrees with the TTFT the clients measure, to the first
 * content token, within 10%; so does each request's access-log `ttftMs`. Real processes: `igw serve`
 * (seed manifests, `--access-log`) in front of two `igw sim` replicas, for the a10-7b profile at
 * twice real speed and the h100-8b profile.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { request } from "undici";
import { seedSimArgs } from "../../src/cli/start.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { type SimProcess, startSimProcess } from "../helpers/sim-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

/** Sum and count of every series of a histogram on a Prometheus text page. */
function histogram(page: string, name: string): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of page.split("\n")) {
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith(`${name}_sum`)) sum += value;
    else if (line.startsWith(`${name}_count`)) count += value;
  }
  return { sum, count };
}

/** One streamed completion; returns ms from sending to the first content token. */
async function stream(url: string, model: string, id: string): Promise<number> {
  const t0 = performance.now();
  const res = await request(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": id },
    body: JSON.stringify({
      model,
      prompt: "Plan three days in Kyoto with a small budget, and say where to eat.",
      max_tokens: 24,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  assert.equal(res.statusCode, 200, `${id}: ${res.statusCode}`);
  let ttft: number | undefined;
  let buffered = "";
  for await (const chunk of res.body) {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      if (ttft !== undefined || !line.startsWith("data: ") || line === "data: [DONE]") continue;
      const event = JSON.parse(line.slice(6)) as { choices?: { text?: string }[] };
      if ((event.choices?.[0]?.text ?? "") !== "") ttft = performance.now() - t0;
    }
  }
  assert.ok(ttft !== undefined, `${id}: no content token`);
  return ttft;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const { profile, timeScale } of [
  { profile: "a10-7b", timeScale: 2 },
  { profile: "h100-8b", timeScale: 1 },
]) {
  test(`TTFT: the gateway's metric and access log agree with the clients within 10% (${profile}, time scale ${timeScale}, saturated)`, async (t) => {
    const files = tempFiles({});
    let sim: SimProcess | undefined;
    let gw: GatewayProcess | undefined;
    try {
      sim = await startSimProcess([
        ...seedSimArgs(2, profile).filter((a, i, all) => a !== "--port" && all[i - 1] !== "--port"),
        "--max-num-seqs",
        "4",
        "--time-scale",
        String(timeScale),
      ]);
      writeFileSync(
        files.path("endpoints.yaml"),
        `endpoints:\n${sim.urls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: qwen}\n`).join("")}`,
      );
      gw = await startGatewayProcess([
        "-f",
        "examples/seed",
        "--endpoints",
        files.path("endpoints.yaml"),
        "--access-log",
        "--log-level",
        "warn",
      ]);
      const url = gw.url;
      // 24 clients on 8 engine slots, Critical (qwen) and Standard (travel-helper). Each first opens
      // its connection with one stream, unmeasured: the gateway can only time a request from when
      // it reads it, and a cold process or a connection being set up delays that.
      const model = (c: number) => (c % 3 === 0 ? "qwen" : "travel-helper");
      await Promise.all(Array.from({ length: 24 }, (_, c) => stream(url, model(c), `warm-${c}`)));
      const before = histogram(
        await (await request(`${url}/metrics`)).body.text(),
        "inference_model_request_ttft_seconds",
      );
      const client = new Map<string, number>();
      await Promise.all(
        Array.from({ length: 24 }, async (_, c) => {
          for (let i = 0; i < 4; i++) {
            const id = `${profile}-${c}-${i}`;
            client.set(id, await stream(url, model(c), id));
          }
        }),
      );
      const after = histogram(
        await (await request(`${url}/metrics`)).body.text(),
        "inference_model_request_ttft_seconds",
      );
      const count = after.count - before.count;
      assert.equal(count, client.size, "every stream has a TTFT observation");
      const gatewayMean = ((after.sum - before.sum) / count) * 1000;
      const clientMean = mean([...client.values()]);

      // The access log: one line per request, its ttftMs beside the client's, and proof of queueing.
      const lines = gw
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { id?: string; ttftMs?: number; queueMs?: number });
      const logged = lines.filter((l) => l.id !== undefined && client.has(l.id));
      assert.equal(logged.length, client.size, "one access-log line per request");
      const loggedMean = mean(logged.map((l) => l.ttftMs!));
      const queued = logged.filter((l) => l.queueMs! > 0).length;
      const fastest = Math.min(...client.values());
      const gaps = logged.map((l) => client.get(l.id!)! - l.ttftMs!).sort((a, b) => a - b);
      t.diagnostic(
        `${profile}: client mean TTFT ${clientMean.toFixed(1)} ms (min ${fastest.toFixed(1)}, max ${Math.max(...client.values()).toFixed(1)}), ` +
          `gateway metric ${gatewayMean.toFixed(1)} ms (${((gatewayMean / clientMean - 1) * 100).toFixed(1)}%), ` +
          `access log ${loggedMean.toFixed(1)} ms; client − gateway per request: median ${gaps[gaps.length >> 1]!.toFixed(1)} ms, ` +
          `max ${gaps.at(-1)!.toFixed(1)} ms; ${queued}/${logged.length} waited in the gateway's queue`,
      );
      assert.ok(queued > 0, "saturated: some requests waited in the gateway's queue");
      assert.ok(clientMean > 3 * fastest, "saturated: waiting dominates the mean TTFT");
      assert.ok(
        Math.abs(gatewayMean / clientMean - 1) <= 0.1,
        `metric ${gatewayMean} vs clients ${clientMean}`,
      );
      assert.ok(
        Math.abs(loggedMean / clientMean - 1) <= 0.1,
        `access log ${loggedMean} vs clients ${clientMean}`,
      );
      for (const l of logged)
        assert.ok(l.ttftMs! <= client.get(l.id!)! + 1, `${l.id}: the gateway stamps before the client reads`);
    } finally {
      await gw?.stop();
      await sim?.stop();
      files.cleanup();
    }
  });
}
