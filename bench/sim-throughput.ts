/**
 * Simulator throughput (`npm run bench:sim`): one `igw sim --profile instant` process; this process
 * keeps C keep-alive connections busy with streamed 16-token completions for D seconds and reports
 * completed streams per second (each checked: 16 token frames + usage frame + [DONE]).
 * The client speaks HTTP/1.1 over raw sockets (request bytes prebuilt, response scanned for the
 * final chunk) so that the client, not the simulator, is as cheap as possible: with undici the
 * client process saturated a core first on this 2-core machine.
 * Usage: npm run bench:sim -- [--concurrency 128] [--seconds 6]
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { startSimProcess } from "../test/helpers/sim-process.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const concurrency = arg("concurrency", 128);
const seconds = arg("seconds", 6);
const warmupS = 1.5;
const sim = await startSimProcess(["--model", "m", "--profile", "instant", "--max-num-seqs", "512"]);
const { hostname, port } = new URL(sim.urls[0]!);
const body = JSON.stringify({
  model: "m",
  prompt: "the quick brown fox jumps over the lazy dog again and again",
  max_tokens: 16,
  ignore_eos: true,
  stream: true,
  stream_options: { include_usage: true },
});
const request = Buffer.from(
  `POST /v1/completions HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
);
const END = "data: [DONE]\n\n\r\n0\r\n\r\n";

let completed = 0;
let bad = 0;
let counting = false;
let stop = false;

/** One keep-alive connection sending requests back to back. */
function connection(): Promise<void> {
  return new Promise((resolve) => {
    const sock: Socket = connect(Number(port), hostname);
    sock.setNoDelay(true);
    let buf = "";
    const send = () => {
      buf = "";
      sock.write(request);
    };
    sock.on("connect", send);
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      if (!buf.endsWith(END)) return;
      let frames = 0;
      for (let i = buf.indexOf("data: "); i >= 0; i = buf.indexOf("data: ", i + 6)) frames++;
      if (frames === 18 && buf.startsWith("HTTP/1.1 200")) {
        if (counting) completed++;
      } else bad++;
      if (stop) sock.end();
      else send();
    });
    sock.on("close", () => resolve());
    sock.on("error", () => {
      bad++;
      resolve();
    });
  });
}

/** CPU seconds (user + system) used so far by a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const conns = Array.from({ length: concurrency }, () => connection());
await new Promise((r) => setTimeout(r, warmupS * 1000));
counting = true;
const pid = sim.child.pid!;
const cpu0 = cpuSeconds(pid);
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
const cpu = cpuSeconds(pid) - cpu0;
counting = false;
const done = completed;
stop = true;
await Promise.all(conns);
await sim.stop();
const rate = done / elapsed;
const perCpuSecond = done / cpu;
console.log(
  JSON.stringify({
    concurrency,
    seconds: Number(elapsed.toFixed(2)),
    completions: done,
    completions_per_s: Math.round(rate),
    token_frames_per_s: Math.round(rate * 16),
    sim_cpu_s: Number(cpu.toFixed(2)),
    sim_cpu_share: Number((cpu / elapsed).toFixed(2)),
    completions_per_sim_cpu_s: Math.round(perCpuSecond),
    bad,
  }),
);
console.log(
  `streamed 16-token completions/s: ${Math.round(rate)} wall-clock, ${Math.round(perCpuSecond)} per CPU-second of the ` +
    `sim process (target >= 2000; the machine is shared, so the CPU-normalized figure is the capacity)`,
);
