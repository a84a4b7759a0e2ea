/**
 * `npm run bench:soak -- --minutes N [--seed S] [--replicas R] [--concurrency C]`: a real
 * `igw serve` in front of R `igw sim` processes with faults (error answers, stalls, mid-stream
 * error events) for N minutes of mixed traffic — three priorities, completions and chat,
 * streaming and not, random client aborts — with bad input and hostile bodies mixed in, while
 * one server at a time is killed and restarted. It ends with the gauges drained (none leaked),
 * the gateway's peak RSS, and no 5xx answered for bad input; exit code 1 otherwise. Every
 * random choice comes from one seed (`seededRng`).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { seededRng } from "../src/scheduling/random.ts";
import { freePort, type Service, startService, stopAll } from "./bench-processes.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    seed: { type: "string", default: "13" },
    replicas: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
  },
});
const MINUTES = Number(args.minutes);
const REPLICAS = Number(args.replicas);
const CONCURRENCY = Number(args.concurrency);
const rng = seededRng(Number(args.seed));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const QUEUEING = "inference-epp-env.networking.x-k8s.io/experimental-use-queueing";
const MODELS = { critical: "Critical", standard: "Standard", sheddable: "Sheddable" } as const;
const manifests = [
  `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: pool, annotations: {${QUEUEING}: "true"}}
spec: {selector: {app: soak}, targetPortNumber: 8000}
`,
  ...Object.entries(MODELS).map(
    ([name, criticality]) => `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: ${name}}
spec: {modelName: ${name}, criticality: ${criticality}, poolRef: {name: pool}, targetModels: [{name: m}]}
`,
  ),
  `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
    timeouts: {request: 10s}
`,
].join("---\n");

/** One simulated server on a fixed port (so that it can be killed and started again there). */
function startSim(port: number, seed: number): Promise<Service> {
  return startService(
    `sim:${port}`,
    process.execPath,
    [
      ...["--import", "tsx", MAIN, "sim", "--model", "m", "--profile", "a10-7b", "--time-scale", "4"],
      ...["--port", String(port), "--seed", String(seed), "--log-format", "json"],
      ...["--failure-rate", "0.02", "--failure-types", "server_error", "rate_limit"],
      ...["--stall-prob", "0.002", "--stall-ms", "20000", "--mid-stream-error-prob", "0.02"],
    ],
    /listening on (http:\/\/\S+)/,
  );
}

/** What one request is, and what it may be answered. */
type Kind = "good" | "aborted" | "bad" | "hostile";

const badInputs: readonly { path: string; body: string }[] = [
  { path: "/v1/completions", body: '{"model":"standard","prompt":' },
  { path: "/v1/completions", body: '{"prompt":"no model"}' },
  { path: "/v1/completions", body: '["not","an","object"]' },
  { path: "/v1/chat/completions", body: '{"model":"standard","messages":"hi"}' },
  {
    path: "/v1/chat/completions",
    body: '{"model":"standard","messages":[{"role":"user","content":[{"text":{"toString":1}}]}]}',
  },
  { path: "/v1/completions", body: '{"model":"standard","prompt":"x","max_tokens":-1}' },
  { path: "/admin/kill", body: '{"model":"standard"}' },
  { path: "/v1/load_lora_adapter", body: '{"lora_name":"x","lora_path":"/x"}' },
];
const HOSTILE_SIZE = 2_000_000;
const hostileBodies = [
  Buffer.from(`{"model":"standard","prompt":"x","junk":[${"{},".repeat(HOSTILE_SIZE / 3)}{}]}`),
  Buffer.from(`{"model":"standard","prompt":${"[".repeat(HOSTILE_SIZE)}`),
  Buffer.from(`{"model":"standard","prompt":[${"1,".repeat(HOSTILE_SIZE / 2)}1]}`),
];

const counts = new Map<string, number>();
const count = (key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};
const bad5xx: string[] = [];

async function one(gateway: string, agent: Agent): Promise<void> {
  const r = rng();
  const kind: Kind = r < 0.6 ? "good" : r < 0.8 ? "aborted" : r < 0.95 ? "bad" : "hostile";
  const controller = new AbortController();
  let path = "/v1/completions";
  let body: string | Buffer;
  if (kind === "bad") {
    const b = pick(badInputs);
    path = b.path;
    body = b.body;
  } else if (kind === "hostile") body = pick(hostileBodies);
  else {
    const model = pick(Object.keys(MODELS));
    const stream = rng() < 0.5;
    const maxTokens = 4 + Math.floor(rng() * 60);
    const chat = rng() < 0.5;
    path = chat ? "/v1/chat/completions" : "/v1/completions";
    body = JSON.stringify(
      chat
        ? {
            model,
            stream,
            max_tokens: maxTokens,
            messages: [{ role: "user", content: `plan trip ${rng()}` }],
          }
        : { model, stream, max_tokens: maxTokens, prompt: `plan trip ${rng()}` },
    );
    if (kind === "aborted") setTimeout(() => controller.abort(), Math.floor(rng() * 1500)).unref();
  }
  try {
    const res = await request(`${gateway}${path}`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json" },
      body,
      signal: controller.signal,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    count(`${kind} ${res.statusCode}${res.statusCode === 200 ? "" : ` ${errorCodeOf(text)}`}`);
    if ((kind === "bad" || kind === "hostile") && res.statusCode >= 500)
      bad5xx.push(`${path} ${res.statusCode} ${text.slice(0, 200)}`);
  } catch (e) {
    count(
      `${kind} ${controller.signal.aborted ? "aborted by the client" : `error: ${(e as Error).message}`}`,
    );
  }
}

/** The `error.code` of an error body (the gateway's are strings, an engine's its status), or "?". */
function errorCodeOf(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code : `engine's ${String(code)}`;
  } catch {
    return "?";
  }
}

function gauges(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const family of [
    "inference_extension_flow_control_queue_size",
    "inference_extension_flow_control_queue_bytes",
    "inference_model_running_requests",
    "inference_objective_running_requests",
  ]) {
    let total = 0;
    for (const line of metricsText.split("\n"))
      if (line.startsWith(`${family}{`) || line.startsWith(`${family} `))
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
    out[family] = total;
  }
  return out;
}

function rssMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

async function main(): Promise<void> {
  const dir = `/tmp/igw-soak-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  writeFileSync(`${dir}/m.yaml`, manifests);
  writeFileSync(
    `${dir}/endpoints.yaml`,
    `endpoints:\n${ports.map((p) => `- address: 127.0.0.1:${p}\n  labels: {app: soak}\n`).join("")}`,
  );
  const sims = await Promise.all(ports.map((p, i) => startSim(p, i + 1)));
  const gw = await startService(
    "igw serve",
    process.execPath,
    [
      ...["--import", "tsx", MAIN, "serve", "-f", `${dir}/m.yaml`, "--endpoints", `${dir}/endpoints.yaml`],
      ...[
        "--port",
        String(await freePort()),
        "--host",
        "127.0.0.1",
        "--log-format",
        "json",
        "--log-level",
        "warn",
      ],
    ],
    /listening on (http:\/\/\S+)/,
  );
  const agent = new Agent({ connections: CONCURRENCY * 2 });
  const started = Date.now();
  const stopAt = started + MINUTES * 60_000;
  let kills = 0;
  let peakRss = 0;
  const chaos = (async () => {
    while (Date.now() < stopAt - 15_000) {
      await sleep(10_000 + rng() * 20_000);
      if (Date.now() >= stopAt - 15_000) break;
      const i = Math.floor(rng() * sims.length);
      sims[i]!.child.kill("SIGKILL");
      kills++;
      await sleep(2000 + rng() * 3000);
      sims[i] = await startSim(ports[i]!, 100 + kills);
    }
  })();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMiB(gw.pid, "VmRSS"));
  }, 1000);
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < stopAt) await one(gw.url, agent);
  });
  await Promise.all([...workers, chaos]);
  clearInterval(sampler);

  // Drained: every gauge back at 0 (allow the last requests and the queue TTL to finish).
  let last: Record<string, number> = {};
  const drainBy = Date.now() + 40_000;
  for (;;) {
    last = gauges(await (await fetch(`${gw.url}/metrics`)).text());
    if (Object.values(last).every((v) => v === 0) || Date.now() > drainBy) break;
    await sleep(250);
  }
  const hwm = rssMiB(gw.pid, "VmHWM");
  await agent.close();
  await stopAll([gw, ...sims]);

  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const leaked = Object.entries(last).filter(([, v]) => v !== 0);
  console.log(`soak: ${MINUTES} min, seed ${args.seed}, ${REPLICAS} sims, ${CONCURRENCY} clients`);
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    `requests: ${total} (${(total / ((Date.now() - started) / 1000)).toFixed(0)}/s); servers killed and restarted: ${kills}`,
  );
  console.log("| kind | answer | requests |\n|---|---|---|");
  for (const [key, n] of [...counts].sort()) {
    const [kind, ...rest] = key.split(" ");
    console.log(`| ${kind} | ${rest.join(" ")} | ${n} |`);
  }
  console.log(`gateway RSS: peak sampled ${peakRss.toFixed(0)} MiB, VmHWM ${hwm.toFixed(0)} MiB`);
  console.log(`gauges after draining: ${JSON.stringify(last)}`);
  console.log(`bad input or hostile bodies answered 5xx: ${bad5xx.length}`);
  for (const b of bad5xx.slice(0, 10)) console.log(`  ${b}`);
  if (leaked.length > 0 || bad5xx.length > 0) process.exitCode = 1;
}

await main();
