/**
 * `igw start` (what `npm start` runs): the embedded default. Simulated vLLM servers shaped like the
 * seed's Deployment (5 replicas of Qwen-2.5-7B on A10s with the LoRA adapters travel-helper-v1/v2)
 * run in a child `igw sim` process; the gateway serves the seed's manifests (examples/seed) in
 * front of them and prints where to send requests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "@commander-js/extra-typings";
import { startGateway } from "../gateway/start-gateway.ts";
import { createLogger, resolveLogFormat } from "../observability/logger.ts";
import { failStartup } from "./cli-errors.ts";
import { integer } from "./core-flags.ts";

const SEED = fileURLToPath(new URL("../../examples/seed", import.meta.url));

/** The seed Deployment's vLLM flags, as `igw sim` arguments (it also answers to `qwen`, the InferenceModel's target). */
export function seedSimArgs(replicas: number, profile: string): string[] {
  return [
    "--model",
    "/models/Qwen-2.5-7B-Instruct",
    "--served-model-name",
    "qwen",
    "/model/qwen",
    "--max-model-len",
    "8192",
    "--enable-prefix-caching",
    "--enable-lora",
    "--max-loras",
    "2",
    "--max-cpu-loras",
    "4",
    "--lora-modules",
    "travel-helper-v1=/models/Qwen-TravelHelper-Lora",
    "travel-helper-v2=/models/Qwen-TravelHelper-Lora-v2",
    "--replicas",
    String(replicas),
    "--profile",
    profile,
    "--port",
    "0",
  ];
}

/** Spawns `igw sim` with `args`; resolves with one URL per replica. */
function spawnSim(args: string[], replicas: number): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, "sim", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const urls: string[] = [];
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      for (const m of out.matchAll(/^igw sim: replica (\d+) listening on (\S+)/gm))
        urls[Number(m[1])] = m[2]!;
      if (urls.filter(Boolean).length === replicas) resolve({ child, urls });
    });
    child.once("exit", (code) => reject(new Error(`igw sim exited with ${code}`)));
  });
}

export function startCommand(): Command {
  return new Command("start")
    .description("run the embedded default: the seed's manifests in front of simulated vLLM servers")
    .option("--replicas <n>", "simulated vLLM servers", integer(1, 64), 5)
    .option("--profile <name>", "simulator latency profile (igw sim --help)", "a10-7b")
    .option("--port <n>", "gateway port (default: the seed Gateway's listener, 8081)", integer(0, 65535))
    .option("--log-level <level>", "gateway log level", "info")
    .option("--access-log", "log one line per request (id, models, endpoint, status, queue, TTFT, tokens)")
    .addOption(
      new Option("--log-format <format>", "json lines, or text for people (auto: text on a terminal)")
        .choices(["auto", "json", "text"] as const)
        .default("auto" as const),
    )
    .action(async (opts) => {
      // The simulator shares our stderr: it writes in the same format, so the stream holds one.
      const format = resolveLogFormat(opts.logFormat);
      const logger = createLogger(opts.logLevel, format);
      const accessLog = opts.accessLog ? createLogger("info", format) : undefined;
      const sim = await spawnSim(
        [...seedSimArgs(opts.replicas, opts.profile), "--log-format", format],
        opts.replicas,
      ).catch((e: unknown) => {
        logger.fatal({ err: e }, "igw start could not start the simulated servers");
        process.exit(1);
      });
      const dir = mkdtempSync(join(tmpdir(), "igw-start-"));
      const endpointsFile = join(dir, "endpoints.yaml");
      writeFileSync(
        endpointsFile,
        `endpoints:\n${sim.urls.map((u) => `  - address: ${new URL(u).host}\n    labels: {app: qwen}\n`).join("")}`,
      );
      const stopSim = (): void => {
        sim.child.kill("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      };
      try {
        const gw = await startGateway({
          manifests: [SEED],
          endpointsFile,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(accessLog ? { accessLog } : {}),
          logger,
        });
        const url = gw.url;
        process.stdout.write(
          `igw start: ${opts.replicas} simulated vLLM servers (profile ${opts.profile}): ${sim.urls.join(" ")}\n` +
            `igw serve: listening on ${url}\n\n` +
            `Send OpenAI requests to ${url}/v1 with model "qwen" (Critical) or "travel-helper" (Standard, LoRA travel-helper-v1):\n` +
            `  curl -N ${url}/v1/chat/completions -H 'content-type: application/json' \\\n` +
            `    -d '{"model":"travel-helper","messages":[{"role":"user","content":"Plan three days in Kyoto"}],"stream":true}'\n` +
            `Live dashboard: ${url}/dashboard   Models: ${url}/v1/models   Gateway metrics: ${url}/metrics\n` +
            `Manifests: ${SEED}\n`,
        );
        const stop = (): void => {
          gw.close().finally(() => {
            stopSim();
            process.exit(0);
          });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        sim.child.once("exit", (code) => {
          logger.error({ code }, `igw start: the simulator exited (${code}); stopping`);
          gw.close().finally(() => process.exit(1));
        });
      } catch (e) {
        stopSim();
        failStartup(logger, e, "igw start could not start the gateway");
      }
    });
}
