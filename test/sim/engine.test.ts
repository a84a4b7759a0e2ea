import assert from "node:assert/strict";
import { test } from "node:test";
import { renderMetrics } from "../../src/sim/metrics-exposition.ts";
import type { Sequence } from "../../src/sim/sequence.ts";
import { Engine, req, run, testConfig } from "./engine-helpers.ts";

test("token budget and max_num_seqs hold on every step; every request completes", () => {
  const cfg = testConfig({ maxNumSeqs: 5, maxNumBatchedTokens: 48, numGpuBlocks: 400 });
  const e = new Engine(cfg);
  const seqs: Sequence[] = [];
  for (let i = 0; i < 40; i++)
    seqs.push(e.add(req(`r${i}`, 10 + ((i * 37) % 90), 1 + ((i * 13) % 20), {}, i * 1000), 0));
  let maxBatch = 0;
  const { steps } = run(e, (plan) => {
    const tokens = plan.chunks.reduce((s, c) => s + c.numNew, 0);
    assert.ok(tokens <= cfg.maxNumBatchedTokens, `step computes ${tokens} tokens > budget`);
    assert.ok(plan.chunks.length <= cfg.maxNumSeqs);
    assert.ok(e.runningSeqs.length <= cfg.maxNumSeqs);
    maxBatch = Math.max(maxBatch, plan.chunks.length);
  });
  assert.ok(steps > 0);
  assert.equal(maxBatch, cfg.maxNumSeqs, "the batch fills up to max_num_seqs");
  for (const [i, s] of seqs.entries()) {
    assert.equal(s.status, "finished");
    assert.equal(s.numOutput, 1 + ((i * 13) % 20));
  }
});

test("long prompts are prefilled in chunks within the budget, and decodes are not starved", () => {
  const e = new Engine(testConfig({ maxNumBatchedTokens: 16, numGpuBlocks: 200 }));
  const short = e.add(req("short", 4, 30), 0);
  run(
    e,
    () => undefined,
    () => undefined,
    3,
  ); // short is decoding now
  const long = e.add(req("long", 100, 2, {}, 5000), 0);
  const chunks: number[] = [];
  run(e, (plan) => {
    const c = plan.chunks.find((x) => x.seq === long);
    if (c !== undefined && long.numOutput === 0) chunks.push(c.numNew);
    if (short.status === "running")
      assert.ok(
        plan.chunks.some((x) => x.seq === short),
        "decode scheduled every step",
      );
  });
  assert.ok(chunks.length >= 7, `100-token prompt took ${chunks.length} chunks`);
  assert.equal(
    chunks.reduce((a, b) => a + b, 0),
    100,
  );
  assert.equal(long.numOutput, 2);
});

test("KV blocks are never over-allocated: held blocks match the pool and fit in it", () => {
  const cfg = testConfig({ numGpuBlocks: 40, blockSize: 4, maxNumSeqs: 16, maxNumBatchedTokens: 64 });
  const e = new Engine(cfg);
  for (let i = 0; i < 30; i++) e.add(req(`r${i}`, 12 + (i % 7) * 3, 10 + (i % 5) * 4, {}, (i % 3) * 100), 0);
  run(e, (plan, eng) => {
    const held = new Set<number>();
    for (const s of eng.runningSeqs) {
      const c = plan.chunks.find((x) => x.seq === s);
      const needed = Math.ceil((s.numComputed + (c?.numNew ?? 0)) / cfg.blockSize);
      assert.equal(s.blocks.length, needed, `${s.id} holds exactly the blocks its computed tokens need`);
      for (const b of s.blocks) held.add(b);
    }
    for (const s of eng.waitingSeqs) assert.equal(s.blocks.length, 0);
    assert.ok(held.size <= cfg.numGpuBlocks);
    assert.equal(eng.pool.numUsed(), held.size, "pool's used blocks = blocks held by running requests");
  });
  assert.equal(e.pool.numUsed(), 0, "all blocks free when idle");
});

test("a KV-exhausted engine preempts the newest request, which still completes correctly", () => {
  // 24 blocks x 4 tokens = 96 token slots; 4 requests each grow to 10 + 30 = 40 tokens.
  const cfg = testConfig({ numGpuBlocks: 24, blockSize: 4, maxNumBatchedTokens: 64 });
  const e = new Engine(cfg);
  const seqs = [0, 1, 2, 3].map((i) => e.add(req(`r${i}`, 10, 30, {}, i * 100), 0));
  const tokens = new Map<string, number>();
  let preemptedIds: string[] = [];
  run(
    e,
    (plan, eng) => {
      if (plan.preempted > 0) {
        preemptedIds = eng.waitingSeqs.filter((s) => s.preemptions > 0).map((s) => s.id);
      }
    },
    (events) => {
      for (const ev of events) tokens.set(ev.seq.id, (tokens.get(ev.seq.id) ?? 0) + 1);
    },
  );
  assert.ok(e.stats.preemptions > 0, "preemption happened");
  assert.ok(preemptedIds.includes("r3"), "the newest running request was preempted first");
  assert.equal(seqs[0]!.preemptions, 0, "the oldest request was never preempted");
  for (const s of seqs) {
    assert.equal(s.status, "finished");
    assert.equal(s.finishReason, "length");
    assert.equal(tokens.get(s.id), 30, `${s.id} delivered each of its 30 tokens exactly once`);
    assert.equal(s.numOutput, 30);
  }
  assert.equal(e.pool.numUsed(), 0);
  assert.ok(/vllm:num_preemptions_total\{[^}]*\} [1-9]/.test(render(e)));
});

test("a repeated prompt prefills fewer tokens and prefix_cache_hits_total grows", () => {
  const e = new Engine(testConfig({ blockSize: 4, maxNumBatchedTokens: 256 }));
  e.add(req("a", 40, 3), 0);
  run(e);
  const hitsBefore = e.stats.prefixHits;
  const b = e.add(req("b", 40, 3), 0);
  let firstChunk = -1;
  run(e, (plan) => {
    const c = plan.chunks.find((x) => x.seq === b);
    if (c !== undefined && firstChunk < 0) firstChunk = c.numNew;
  });
  assert.ok(firstChunk > 0 && firstChunk < 40, `second prefill computed ${firstChunk} of 40 tokens`);
  assert.equal(firstChunk, 40 - 36, "hits stop one block short: at least one token is always computed");
  assert.ok(e.stats.prefixHits > hitsBefore);
  assert.match(render(e), /vllm:prefix_cache_hits_total\{model_name="m",engine="0"\} 36\.0/);
});

test("prefix cache keys include the LoRA adapter", () => {
  const e = new Engine(testConfig({ blockSize: 4, enableLora: true, maxLoras: 2, maxCpuLoras: 2 }));
  e.add(req("a", 20, 1, { adapter: "x" }), 0);
  run(e);
  const c = e.add(req("c", 20, 1, { adapter: "y" }), 0);
  let first = -1;
  run(e, (plan) => {
    const ch = plan.chunks.find((x) => x.seq === c);
    if (ch !== undefined && first < 0) first = ch.numNew;
  });
  assert.equal(first, 20, "same tokens under another adapter miss the cache");
});

test("max_loras holds per batch, and blocked adapters appear in waiting_lora_adapters", () => {
  const cfg = testConfig({
    enableLora: true,
    maxLoras: 2,
    maxCpuLoras: 3,
    numGpuBlocks: 400,
    maxNumSeqs: 16,
  });
  const e = new Engine(cfg);
  const adapters = ["a1", "a2", "a3", "a4"];
  for (let i = 0; i < 12; i++) e.add(req(`r${i}`, 8, 20, { adapter: adapters[i % 4]! }, i * 100), 0);
  let sawBlocked = false;
  run(e, (plan, eng) => {
    const batch = new Set(plan.chunks.map((c) => c.seq.adapter));
    assert.ok(batch.size <= cfg.maxLoras, `batch has ${batch.size} adapters`);
    const running = new Set(eng.runningSeqs.map((s) => s.adapter));
    assert.ok(running.size <= cfg.maxLoras);
    if (eng.waitingSeqs.some((s) => !running.has(s.adapter))) {
      eng.updateLoraInfo(1000);
      const m =
        /vllm:lora_requests_info\{max_lora="2",waiting_lora_adapters="([^"]*)",running_lora_adapters="([^"]*)"\} 1000\.0/.exec(
          render(eng),
        );
      assert.ok(m !== null, "lora_requests_info series at the latest time");
      const waiting = m[1]!.split(",");
      for (const s of eng.waitingSeqs)
        assert.ok(waiting.includes(s.adapter!), `${s.adapter} listed as waiting`);
      assert.ok(m[2]!.split(",").length <= 2);
      sawBlocked = true;
    }
  });
  assert.ok(sawBlocked, "some adapters had to wait for a slot");
  assert.equal(e.stats.success.length, 12);
});

test("priority policy admits lower priority values first and preempts the worst", () => {
  const e = new Engine(testConfig({ schedulingPolicy: "priority", maxNumSeqs: 1 }));
  const low = e.add(req("low", 4, 2, { priority: 5 }), 0);
  const high = e.add(req("high", 4, 2, { priority: -1 }, 100), 1);
  const order: string[] = [];
  run(
    e,
    () => undefined,
    (evs) => {
      for (const ev of evs) if (ev.finish) order.push(ev.seq.id);
    },
  );
  assert.deepEqual(order, ["high", "low"]);
  assert.equal(low.status, "finished");
  assert.equal(high.status, "finished");
});

test("without ignore_eos the output length is drawn (mean eos-mean) and capped by max_tokens", () => {
  const e = new Engine(
    testConfig({ eosMean: 8, numGpuBlocks: 4000, maxNumSeqs: 64, maxNumBatchedTokens: 2048 }),
  );
  const seqs = Array.from({ length: 400 }, (_, i) =>
    e.add(req(`r${i}`, 4, 30, { ignoreEos: false }, i * 10), 0),
  );
  run(e);
  const lens = seqs.map((s) => s.numOutput);
  assert.ok(lens.every((n) => n >= 1 && n <= 30));
  const mean = lens.reduce((a, b) => a + b, 0) / lens.length;
  assert.ok(mean > 5 && mean < 10, `mean ${mean}`);
  assert.ok(seqs.some((s) => s.finishReason === "stop") && seqs.some((s) => s.finishReason === "length"));
});

function render(e: Engine): string {
  return renderMetrics(e.stats, {
    modelName: "m",
    engineLabel: "0",
    compat: "v1",
    config: e.config,
    gpuMemoryUtilization: 0.9,
    numGpuBlocksOverride: undefined,
  });
}

test("step time follows the cost model; stalls and cold LoRA loads lengthen steps", () => {
  const costs = { baseMs: 10, prefillUsPerToken: 100, decodeUsPerSeq: 50, attnUsPerCtxToken: 1, jitter: 0 };
  const e = new Engine(testConfig({ costs, maxNumBatchedTokens: 64 }));
  e.add(req("a", 20, 3), 0);
  const prefill = e.schedule(0)!;
  assert.equal(prefill.prefillTokens, 20);
  assert.equal(prefill.durationMs, 10 + (20 * 100 + 20 * 1) / 1000);
  e.complete(prefill, prefill.durationMs);
  const decode = e.schedule(prefill.durationMs)!;
  assert.equal(decode.decodeSeqs, 1);
  assert.equal(decode.durationMs, 10 + (50 + 21 * 1) / 1000);

  const stalled = new Engine(testConfig({ costs, stallProb: 1, stallMs: 500 }));
  stalled.add(req("s", 4, 1), 0);
  assert.ok(stalled.schedule(0)!.durationMs >= 500);

  const lora = new Engine(testConfig({ costs, enableLora: true, loraLoadMs: 200, loraActivateMs: 5 }));
  lora.add(req("l1", 4, 1, { adapter: "x" }), 0);
  const cold = lora.schedule(0)!;
  assert.equal(cold.durationMs, 10 + (4 * 100 + 4) / 1000 + 205);
  lora.complete(cold, cold.durationMs);
  lora.add(req("l2", 4, 1, { adapter: "x" }, 50), cold.durationMs);
  const warm = lora.schedule(cold.durationMs)!;
  assert.equal(warm.durationMs, 10 + (4 * 100 + 4) / 1000, "the adapter is cached and active now");
});

test("cache_salt: only requests with the same salt share a cached prefix", () => {
  const e = new Engine(testConfig({ blockSize: 4, maxNumBatchedTokens: 256 }));
  e.add(req("a", 40, 1, { cacheSalt: "tenant-1" }), 0);
  run(e);
  const firstChunk = (salt: string | null): number => {
    const s = e.add(req(`b-${salt}`, 40, 1, { cacheSalt: salt }), 0);
    let n = -1;
    run(e, (plan) => {
      const c = plan.chunks.find((x) => x.seq === s);
      if (c !== undefined && n < 0) n = c.numNew;
    });
    return n;
  };
  assert.equal(firstChunk("tenant-2"), 40, "another salt misses");
  assert.equal(firstChunk(null), 40, "no salt misses a salted prefix");
  assert.equal(firstChunk("tenant-1"), 4, "the same salt hits");
});

test("with a time scale the metrics report durations in real seconds: the same run at 4× reads ¼ the seconds", () => {
  const durations = (timeScale: number) => {
    const e = new Engine(testConfig({ timeScale }));
    for (let i = 0; i < 6; i++) e.add(req(`r${i}`, 20, 5, {}, i * 1000), 0);
    run(e);
    const st = e.stats;
    return [st.ttft.sum, st.tpot.sum, st.e2e.sum, st.prefill.sum, st.queue.sum, st.requestTpot.sum];
  };
  const real = durations(1);
  const fast = durations(4);
  assert.ok(real.every((s) => s > 0));
  for (const [i, s] of fast.entries())
    assert.ok(Math.abs(s - real[i]! / 4) < 1e-9, `metric ${i}: ${s} vs ${real[i]! / 4}`);
});
