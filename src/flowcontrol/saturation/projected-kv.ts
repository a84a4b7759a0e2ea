/**
 * The pool's projected KV use from the gateway's own in-flight ledger: Σ over endpoints of the KV
 * tokens their in-flight requests hold on average over their lives (InFlight.kvTokens: prompt +
 * half the max output), ÷ Σ their KV capacity in tokens (vllm:cache_config_info num_gpu_blocks ×
 * block_size). Unlike the scraped KV use it counts what admitted requests will grow into, and it
 * moves at once with each dispatch. Endpoints whose capacity is unknown are left out.
 */
import type { EngineCounters } from "../../modelserver/endpoint-metrics.ts";
import type { Candidate } from "../../scheduling/types.ts";

/**
 * The KV tokens one request holds on average over its life on an endpoint: its prompt plus half
 * its expected output. The expected output is the endpoint's mean output per finished request
 * (vllm:request_generation_tokens, since the server started), capped by the request's max_tokens;
 * max_tokens alone while the endpoint has finished nothing; the mean alone without max_tokens; 0
 * without either. (max_tokens is an upper bound: chat clients often send thousands and get
 * hundreds, which would make the pool look full long before it is.)
 */
export function expectedKvTokens(
  promptTokens: number,
  maxTokens: number | undefined,
  counters: EngineCounters | undefined,
): number {
  const mean =
    counters !== undefined && counters.finishedRequests > 0
      ? counters.generationTokens / counters.finishedRequests
      : undefined;
  const output = maxTokens === undefined ? (mean ?? 0) : Math.min(maxTokens, mean ?? maxTokens);
  return promptTokens + output / 2;
}

/** Projected KV use of the pool, a fraction of its capacity; undefined when no endpoint reports its capacity. */
export function projectedKvUse(candidates: readonly Candidate[]): number | undefined {
  let used = 0;
  let capacity = 0;
  for (const c of candidates) {
    const { numGpuBlocks, blockSize } = c.metrics;
    if (numGpuBlocks === undefined || blockSize === undefined || numGpuBlocks <= 0) continue;
    used += c.inFlight.kvTokens;
    capacity += numGpuBlocks * blockSize;
  }
  return capacity > 0 ? used / capacity : undefined;
}
