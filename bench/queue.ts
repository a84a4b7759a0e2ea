/**
 * Queue-cost microbenchmark (`npm run bench:queue`): enqueue + dispatch throughput of the flow
 * controller, and the RSS held by 10,000 queued requests. Plain loops, one process, short.
 */
import { parseFlowControl } from "../src/flowcontrol/config.ts";
import { FlowController } from "../src/flowcontrol/flow-controller.ts";
import type { SaturationDetector } from "../src/flowcontrol/types.ts";

class Switch implements SaturationDetector {
  readonly type = "switch";
  readonly name = "switch";
  value = 1;
  saturation(): number {
    return this.value;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
const priorities = [10, 0, 0, -1];

function controller(fairness: string) {
  const detector = new Switch();
  const c = new FlowController({
    settings: parseFlowControl({
      queueSheddable: true,
      defaultRequestTTL: "10m",
      reclaimWindow: 0, // a policy delay, not a queue cost
      defaultPriorityBand: { fairnessPolicyRef: fairness },
    }),
    detector,
    candidates: () => [],
  });
  return { c, detector };
}

/**
 * Admits n requests into a saturated pool, then frees it and waits for all n dispatches. The
 * requests (and their AbortSignals, ~4 µs each to create) exist before the clock starts: the
 * gateway has them anyway; the queue's own cost, including its abort listeners, is timed.
 */
async function throughput(n: number, fairness: string, flows: number): Promise<number> {
  const { c, detector } = controller(fairness);
  const requests = Array.from({ length: n }, (_, i) => ({
    id: String(i),
    priority: priorities[i % priorities.length]!,
    flowId: `tenant-${i % flows}`,
    bytes: 4000,
    signal: new AbortController().signal,
  }));
  const start = performance.now();
  const all: Promise<void>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = c.admit(requests[i]!);
  const enqueued = performance.now();
  detector.value = 0;
  c.notify();
  await Promise.all(all);
  const end = performance.now();
  c.close();
  console.log(
    `  ${fairness}, ${flows} flows: ${n} enqueued in ${(enqueued - start).toFixed(0)} ms, ` +
      `dispatched in ${(end - enqueued).toFixed(0)} ms → ${Math.round(n / ((end - start) / 1000)).toLocaleString("en-US")} requests/s`,
  );
  return n / ((end - start) / 1000);
}

async function memory(n: number): Promise<number> {
  gc?.();
  const before = process.memoryUsage().rss;
  const { c } = controller("round-robin-fairness-policy");
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    all.push(
      c.admit({
        id: `req-${i}`,
        priority: priorities[i % priorities.length]!,
        flowId: `tenant-${i % 100}`,
        bytes: 4000,
        signal: new AbortController().signal,
      }),
    );
  }
  gc?.();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  console.log(
    `  ${n} queued: RSS ${(rss / 2 ** 20).toFixed(1)} MB (queue adds ${((rss - before) / 2 ** 20).toFixed(1)} MB), heap ${(heap / 2 ** 20).toFixed(1)} MB`,
  );
  c.close();
  await Promise.allSettled(all);
  return rss;
}

console.log(`flow-control queue benchmark (node ${process.version}${gc ? ", --expose-gc" : ""})`);
console.log("memory (measured first, in a fresh heap):");
const rss = await memory(10_000);
console.log("throughput (enqueue + dispatch, TTL armed, 4 priorities):");
await throughput(20_000, "global-strict-fairness-policy", 1); // warm-up
const rates = [
  await throughput(100_000, "global-strict-fairness-policy", 1),
  await throughput(100_000, "global-strict-fairness-policy", 10),
  await throughput(100_000, "round-robin-fairness-policy", 100),
];
const minRate = Math.min(...rates);
console.log(
  `result: min ${Math.round(minRate).toLocaleString("en-US")} requests/s (target ≥ 100,000): ${minRate >= 100_000 ? "PASS" : "FAIL"}; ` +
    `RSS with 10,000 queued ${(rss / 2 ** 20).toFixed(1)} MB (target ≤ 150 MB): ${rss <= 150 * 2 ** 20 ? "PASS" : "FAIL"}`,
);
