/**
 * The pool's projected KV use from the gateway's own in-flight ledger: Σ over endpoints of the KV
 * tokens their in-flight requests hold on average over their lives (InFlight.kvTokens: prompt +
 * half the max output), ÷ Σ their KV capacity in tokens (vllm:cache_config_info num_gpu_blocks ×
 * block_size). Unlike the scraped KV use it counts what admitted requests will grow into, and it
 * moves at once with each dispatch. Endpoints whose capacity is unknown are left out.
 */
import type { Candidate } from "../../scheduling/types.ts";

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
