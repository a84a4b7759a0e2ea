import { startIgw } from "../src/demo/igw-process.ts";
import { igwTarget, readPickerConfig } from "./routing/targets.ts";
const MAIN = "src/cli/main.ts";
const sim = await startIgw("sim", ["--model", "m", "--replicas", "2", "--profile", "instant", "--port", "0", "--hash-seed", "0",
  "--kv-events-config", JSON.stringify({ enable_kv_cache_events: true, endpoint: "tcp://127.0.0.1:*", buffer_steps: 1000 })], 2, MAIN);
const kvEvents = new Map<string, string>();
for (const [i, line] of sim.lines.entries()) {
  const ep = / kv-events=(\S+)/.exec(line)?.[1];
  if (ep) kvEvents.set(new URL(sim.urls[i]!).host, ep);
}
console.log(sim.lines, [...kvEvents]);
const t = igwTarget("x", readPickerConfig("bench/routing/precise-ttft.yaml"));
const orig = process.argv;
const front = await t.start({ simUrls: sim.urls, kvEvents, igwEntry: MAIN });
const prefix = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
for (let i = 0; i < 4; i++) {
  const r = await fetch(`${front.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", prompt: `${prefix} q${i}`, max_tokens: 2 }) });
  console.log(r.status, r.headers.get("x-gateway-destination-endpoint-served"), r.headers.get("x-gateway-scheduling-decision"));
  await r.text();
  await new Promise((res) => setTimeout(res, 300));
}
await front.stop(); await sim.stop();
