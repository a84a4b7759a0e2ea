import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/helpers/sim-process.ts). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const LINE =
  /^igw sim: replica (\d+) listening on (http:\/\/\S+) model=(\S+)(?: kv-events=(\S+))?(?: kv-replay=(\S+))?$/;

/** The seed Deployment's LoRA flags (vllm-service.yaml): the adapters travel-helper-v1 and -v2. */
export const SEED_LORA_ARGS: readonly string[] = [
  "--enable-lora",
  "--max-loras",
  "2",
  "--lora-modules",
  "travel-helper-v1=/models/Qwen-TravelHelper-Lora",
  "travel-helper-v2=/models/Qwen-TravelHelper-Lora-v2",
];

/** A running `igw sim` child process and its replica URLs (index-aligned). */
export interface SimProcess {
  urls: string[];
  /** Per replica, the KV-event PUB and replay endpoints it printed (undefined when not enabled). */
  kvEvents: { endpoint: string | undefined; replay: string | undefined }[];
  child: ChildProcess;
  /** Kills the process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx src/cli/main.ts sim ...args --port 0` (no `--port 0` when args name a
 * port) from the repository root and waits for one "listening" line per replica (30 s timeout).
 * Pass `--replicas N` in args for N URLs.
 */
export function startSimProcess(args: string[]): Promise<SimProcess> {
  const replicasIdx = args.indexOf("--replicas");
  const inline = args.find((a) => a.startsWith("--replicas="));
  const replicas = replicasIdx >= 0 ? Number(args[replicasIdx + 1]) : inline ? Number(inline.slice(11)) : 1;
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "src/cli/main.ts"),
      "sim",
      ...args,
      ...(args.includes("--port") ? [] : ["--port", "0"]),
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  return new Promise((resolve, reject) => {
    const urls: string[] = [];
    const kvEvents: SimProcess["kvEvents"] = [];
    let seen = 0;
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => fail(new Error(`igw sim did not start within 30 s; stderr:\n${err}`)),
      30_000,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      stop().then(() => reject(e));
    };
    child.stderr!.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      let nl = out.indexOf("\n");
      while (nl >= 0) {
        const m = LINE.exec(out.slice(0, nl));
        out = out.slice(nl + 1);
        nl = out.indexOf("\n");
        if (m === null) continue;
        urls[Number(m[1])] = m[2]!;
        kvEvents[Number(m[1])] = { endpoint: m[4], replay: m[5] };
        if (++seen === replicas) {
          clearTimeout(timer);
          resolve({ urls, kvEvents, child, stop });
        }
      }
    });
    child.once("exit", (code) =>
      fail(new Error(`igw sim exited with code ${code} before listening; stderr:\n${err}`)),
    );
  });
}
