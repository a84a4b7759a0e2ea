/** `igw demo`: the seed's experiment end to end (see src/demo/run-demo.ts). */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { loadConfig } from "../config/file-source.ts";
import { runDemo } from "../demo/run-demo.ts";
import { readSeedDeployment } from "../demo/seed-deployment.ts";
import { UsageError } from "./cli-errors.ts";

const SEED = fileURLToPath(new URL("../../examples/seed", import.meta.url));

function positive(what: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${what} must be a ${integer ? "whole " : ""}number > 0`);
    return n;
  };
}

function seedNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--seed must be a whole number >= 0");
  return n;
}

/**
 * Before anything starts: the manifests must load (a ConfigError exits 2 with file:line) and the
 * folder must hold the seed's Deployment (`vllm-service.yaml`), whose vLLM flags the servers get.
 */
function checkSeedDir(dir: string): void {
  loadConfig([dir], { defaultPort: 8081 });
  try {
    readSeedDeployment(join(dir, "vllm-service.yaml"));
  } catch (e) {
    throw new UsageError(`--seed-dir ${dir}: ${(e as Error).message}`);
  }
}

export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "run the seed's experiment: 5 simulated A10 servers, the gateway on examples/seed, Critical and Standard load at once; compare with round robin and the seed's figures",
    )
    .option(
      "--num-prompts <n>",
      "prompts per class (the seed's full run: 300)",
      positive("--num-prompts", true),
      150,
    )
    .option("--time-scale <x>", "simulated clock speed-up", positive("--time-scale", false), 2)
    .option(
      "--length-scale <x>",
      "multiplies the seed's prompt/output lengths and the servers' KV blocks",
      positive("--length-scale", false),
      0.1,
    )
    .option("--seed-dir <dir>", "the seed's manifests", SEED)
    .option("--out <dir>", "where the chart and summary go", "demo-results")
    .option("--no-baseline", "skip the round-robin baseline")
    .option("--no-critical-alone", "skip the Critical-alone run")
    .option(
      "--engine-priority",
      "add a phase with the servers on vLLM's --scheduling-policy priority and the gateway sending priority, Standard started first (the seed's own vLLM arguments stay the default)",
      false,
    )
    .option("--seed <n>", "random seed of the prompts", seedNumber, 0)
    .addOption(
      new Option("--data-plane <plane>", "who moves the bytes: igw serve, or Envoy asking igw epp (ext_proc)")
        .choices(["igw", "envoy"] as const)
        .default("igw" as const),
    )
    .option(
      "--envoy <path>",
      "the Envoy binary for --data-plane envoy (npm run testenv -- path envoy)",
      "envoy",
    )
    .action(async (o) => {
      checkSeedDir(o.seedDir);
      await runDemo({
        seedDir: o.seedDir,
        numPrompts: o.numPrompts,
        timeScale: o.timeScale,
        lengthScale: o.lengthScale,
        outDir: o.out,
        baseline: o.baseline,
        criticalAlone: o.criticalAlone,
        enginePriority: o.enginePriority,
        seed: o.seed,
        dataPlane: o.dataPlane,
        envoyBin: o.envoy,
        progress: process.stderr.isTTY === true,
        print: (t) => process.stdout.write(t),
      });
    });
}
