/**
 * Simulator throughput (`npm run bench:sim`): one `igw sim --profile instant` process, an undici
 * client in this process keeping C streamed 16-token completions in flight for D seconds.
 * Reports completed streams per second (each checked: 16 token chunks, usage, [DONE]).
 * Usage: npm run bench:sim -- [--concurrency 128] [--seconds 6]
 */
import { Pool } from "undici";
import { startSimProcess } from "../test/helpers/sim-process.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const concurrency = arg("concurrency", 128);
const seconds = arg("seconds", 6);
const warmup = 1.5;
const sim = await startSimProcess(["--model", "m", "--profile", "instant", "--max-num-seqs", "512"]);
const pool = new Pool(sim.urls[0]!, { connections: concurrency, pipelining: 1 });
const body = JSON.stringify({
  model: "m",
  prompt: "the quick brown fox jumps over the lazy dog again and again",
  max_tokens: 16,
  ignore_eos: true,
  stream: true,
  stream_options: { include_usage: true },
});

let completed = 0;
let bad = 0;
let counting = false;
let stop = false;

async function one(): Promise<void> {
  const res = await pool.request({
    path: "/v1/completions",
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  let frames = 0;
  let tail = "";
  for await (const chunk of res.body) {
    const s = (chunk as Buffer).toString("latin1");
    let i = s.indexOf("data: ");
    while (i >= 0) {
      frames++;
      i = s.indexOf("data: ", i + 6);
    }
    tail = s;
  }
  // 16 token frames + usage frame + [DONE]
  if (res.statusCode === 200 && frames === 18 && tail.endsWith("data: [DONE]\n\n")) {
    if (counting) completed++;
  } else bad++;
}

async function worker(): Promise<void> {
  while (!stop) await one();
}

const workers = Array.from({ length: concurrency }, () => worker());
await new Promise((r) => setTimeout(r, warmup * 1000));
counting = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
counting = false;
const done = completed;
stop = true;
await Promise.all(workers);
await pool.close();
await sim.stop();
const rate = done / elapsed;
console.log(
  JSON.stringify({
    concurrency,
    seconds: Number(elapsed.toFixed(2)),
    completions: done,
    completions_per_s: Math.round(rate),
    tokens_per_s: Math.round(rate * 16),
    bad,
  }),
);
console.log(
  `streamed 16-token completions/s: ${Math.round(rate)} (target >= 2000) ${rate >= 2000 ? "OK" : "BELOW TARGET"}`,
);
