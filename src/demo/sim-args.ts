/**
 * Turns the seed's `vllm serve` arguments into `igw sim` arguments for the demo: the seed's flags
 * unchanged, plus the simulator's own (profile, replicas, clock and KV scaling, port 0), plus one
 * fix the seed needs to work as its author meant (see SERVED_NAME_FIX).
 */

/** How the simulated servers are started. */
export interface DemoSimOptions {
  readonly replicas: number;
  /** `igw sim --profile` (a10-7b: Qwen-2.5-7B on one A10, the seed's hardware). */
  readonly profile: string;
  /** Simulated clock speed-up (1 = real time). */
  readonly timeScale: number;
  /** KV blocks per server (the profile's count × the length scale). */
  readonly kvBlocks: number;
  /** Replaces the seed's `--max-model-len` (scaled with the lengths). */
  readonly maxModelLen: number;
}

/**
 * The seed's Deployment serves its base model as `/model/qwen`, but its InferenceModel `qwen-model`
 * targets `qwen`, so every Critical request would reach vLLM as `qwen` and fail with 404. vLLM
 * accepts several `--served-model-name` values; the demo adds `qwen` after `/model/qwen` (which
 * stays first, as responses and metrics report it) — the one-word change to the Deployment that
 * makes the InferenceModel resolve as intended. The manifests themselves stay unchanged.
 */
export const SERVED_NAME_FIX = { servedAs: "/model/qwen", alias: "qwen" } as const;

/** `igw sim` arguments: the seed's flags (`--port` → 0, `--max-model-len` scaled) and the demo's options. */
export function demoSimArgs(seedArgs: readonly string[], o: DemoSimOptions): string[] {
  const args: string[] = [];
  for (let i = 0; i < seedArgs.length; i++) {
    const a = seedArgs[i]!;
    if (a === "--port") {
      i++;
      continue;
    }
    if (a.startsWith("--port=")) continue;
    if (a === "--max-model-len" || a === "--max_model_len") {
      args.push(a, String(o.maxModelLen));
      i++;
      continue;
    }
    args.push(a);
    if (
      (a === "--served-model-name" || a === "--served_model_name") &&
      seedArgs[i + 1] === SERVED_NAME_FIX.servedAs
    ) {
      args.push(SERVED_NAME_FIX.servedAs, SERVED_NAME_FIX.alias);
      i++;
    }
  }
  args.push(
    "--port",
    "0",
    "--replicas",
    String(o.replicas),
    "--profile",
    o.profile,
    "--time-scale",
    String(o.timeScale),
    "--num-gpu-blocks-override",
    String(o.kvBlocks),
  );
  return args;
}
