import type { KvCacheEvent } from "../kvcache/kv-events.ts";
import {
  blockHashKey,
  externalBlockHash,
  extraKeysFor,
  VllmBlockHasher,
} from "../kvcache/vllm-block-hash.ts";
import { BlockPool } from "./block-pool.ts";
import { EngineStats } from "./engine-stats.ts";
import type { EngineConfig, FinishReason, NewRequest } from "./engine-types.ts";
import { Rng } from "./rng.ts";
import { Sequence } from "./sequence.ts";
import { OUTPUT_IDS } from "./tokenizer.ts";

/** One sequence's share of a step: numNew tokens computed (a prefill chunk, or 1 for a decode). */
export interface ScheduledChunk {
  seq: Sequence;
  numNew: number;
}

/** What schedule() decided for one step; pass it back to complete() when the step ends. */
export interface StepPlan {
  chunks: ScheduledChunk[];
  startedAt: number;
  durationMs: number;
  /** Tokens computed for prefills (incl. recompute after preemption), and decoding sequences. */
  prefillTokens: number;
  decodeSeqs: number;
  /** Σ context tokens attended to (computed + new) over the batch. */
  ctxTokens: number;
  /** Requests preempted while building this step. */
  preempted: number;
}

/** A token produced when a step ended: word indexes OUTPUT_WORDS; finish set on the last one. */
export interface TokenEvent {
  seq: Sequence;
  word: number;
  finish: FinishReason | null;
}

/**
 * A vLLM V1-style engine as a pure state machine on an injected clock (ms). Callers alternate
 * schedule(now) -> (wait plan.durationMs) -> complete(plan, now); add()/abort() may be called any time.
 * Scheduling follows vLLM's V1 scheduler: running requests first (decodes and prefill chunks within
 * the token budget), preemption by recompute when KV blocks run out (fcfs: the newest running request;
 * priority: the worst (priority, arrival)), then waiting requests while budget, max_num_seqs, free
 * blocks and max_loras allow. With config.kvEvents it records vLLM's KV-cache events (takeEvents()).
 */
export class Engine {
  readonly config: EngineConfig;
  readonly pool: BlockPool;
  readonly stats: EngineStats;
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  private readonly rng: Rng;
  readonly hasher: VllmBlockHasher;
  /** KV-cache events since the last takeEvents(); null when not recorded. */
  private events: KvCacheEvent[] | null;
  /** Adapters in the host (CPU) cache, least recently used first. */
  private readonly cpuLoras = new Map<string, true>();
  /** Adapters in GPU slots (those of the last batch). */
  private gpuLoras = new Set<string>();
  private nextWordSeed = 1;

  constructor(config: EngineConfig) {
    this.config = config;
    this.pool = new BlockPool(config.numGpuBlocks, config.kvEvents);
    this.stats = new EngineStats(config.maxModelLen);
    this.rng = new Rng(config.seed);
    this.hasher = new VllmBlockHasher(config.hashAlgo, config.hashSeed);
    this.events = config.kvEvents ? [] : null;
  }

  /** Queues a request at time now (ms); returns its sequence (status "waiting"). */
  add(req: NewRequest, now: number): Sequence {
    const drawn = req.ignoreEos ? req.maxTokens : this.rng.geometric(this.config.eosMean);
    const target = Math.max(1, Math.min(req.maxTokens, drawn));
    const seq = new Sequence(
      req.id,
      req.promptTokens,
      req.maxTokens,
      target,
      req.adapter,
      req.adapter === null ? null : (req.loraId ?? null),
      req.cacheSalt ? req.cacheSalt : null,
      req.priority,
      now,
      this.nextWordSeed++,
    );
    this.stats.maxTokensHist.observe(req.maxTokens);
    this.stats.nHist.observe(1);
    this.enqueue(seq, false);
    this.stats.numWaiting = this.waiting.length;
    return seq;
  }

  /** Aborts a waiting or running request (client gone); frees its blocks. */
  abort(seq: Sequence, now: number): void {
    if (seq.status === "finished") return;
    if (seq.status === "waiting") remove(this.waiting, seq);
    else remove(this.running, seq);
    this.finish(seq, now, "abort");
    this.stats.numRunning = this.running.length;
    this.stats.numWaiting = this.waiting.length;
    this.stats.kvUsage = this.pool.usage();
  }

  /** True while any request is waiting or running. */
  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  /** Running and waiting sequences (read-only views, for metrics and tests). */
  get runningSeqs(): readonly Sequence[] {
    return this.running;
  }
  get waitingSeqs(): readonly Sequence[] {
    return this.waiting;
  }

  /** Builds the next step at time now, or null if nothing can run (then only add() brings new work). */
  schedule(now: number): StepPlan | null {
    const cfg = this.config;
    const bs = cfg.blockSize;
    let budget = cfg.maxNumBatchedTokens;
    const chunks: ScheduledChunk[] = [];
    let preempted = 0;

    // 1. Running requests, in order.
    let i = 0;
    while (i < this.running.length && budget > 0) {
      const seq = this.running[i]!;
      const numNew = Math.min(seq.tokens.length - seq.numComputed, budget);
      const need = Math.ceil((seq.numComputed + numNew) / bs) - seq.blocks.length;
      let scheduled = true;
      while (need > this.pool.numFree()) {
        const victimIndex = this.victimIndex();
        const victim = this.running[victimIndex]!;
        this.running.splice(victimIndex, 1);
        const done = chunks.findIndex((c) => c.seq === victim);
        if (done >= 0) {
          budget += chunks[done]!.numNew;
          chunks.splice(done, 1);
        }
        this.preempt(victim);
        preempted++;
        if (victimIndex < i) i--;
        if (victim === seq) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) break; // vLLM: the request preempted itself; no more running requests this step
      for (let k = 0; k < need; k++) seq.blocks.push(this.pool.allocate());
      chunks.push({ seq, numNew });
      budget -= numNew;
      i++;
    }

    // 2. Waiting requests, only if nothing was preempted in this step.
    if (preempted === 0) {
      const loras = new Set<string>();
      if (cfg.enableLora) for (const c of chunks) if (c.seq.adapter !== null) loras.add(c.seq.adapter);
      const admitted: Sequence[] = [];
      for (let w = 0; w < this.waiting.length; w++) {
        if (budget <= 0 || this.running.length >= cfg.maxNumSeqs) break;
        const seq = this.waiting[w]!;
        if (cfg.enableLora && seq.adapter !== null && loras.size >= cfg.maxLoras && !loras.has(seq.adapter)) {
          continue; // would exceed max_loras: skipped, requests behind it may proceed
        }
        const hits = cfg.enablePrefixCaching ? this.cachedPrefix(seq) : [];
        const numHits = hits.length;
        const computed = numHits * bs;
        const numNew = Math.min(seq.tokens.length - computed, budget);
        const need = Math.ceil((computed + numNew) / bs) - numHits;
        let evictable = 0;
        for (const b of hits) if (this.pool.isFree(b)) evictable++;
        if (need > this.pool.numFree() - evictable) break; // head-of-line: no KV for it yet
        for (const b of hits) this.pool.touch(b);
        const blocks = hits;
        for (let k = 0; k < need; k++) blocks.push(this.pool.allocate());
        seq.blocks = blocks;
        seq.numComputed = computed;
        seq.numCachedBlocks = numHits;
        if (cfg.enablePrefixCaching) {
          this.stats.prefixQueries += seq.tokens.length;
          this.stats.prefixHits += computed;
        }
        if (seq.cachedPromptTokens < 0) seq.cachedPromptTokens = Math.min(computed, seq.promptLen);
        if (Number.isNaN(seq.firstScheduled)) seq.firstScheduled = now;
        seq.status = "running";
        this.running.push(seq);
        admitted.push(seq);
        chunks.push({ seq, numNew });
        budget -= numNew;
        if (seq.adapter !== null) loras.add(seq.adapter);
      }
      if (admitted.length > 0) {
        const set = new Set(admitted);
        let k = 0;
        for (const s of this.waiting) if (!set.has(s)) this.waiting[k++] = s;
        this.waiting.length = k;
      }
    }

    this.stats.numRunning = this.running.length;
    this.stats.numWaiting = this.waiting.length;
    this.stats.kvUsage = this.pool.usage();
    this.stats.preemptions += preempted;
    if (this.events !== null)
      for (const h of this.pool.takeEvicted())
        this.events.push({ type: "BlockRemoved", blockHashes: [h], medium: "GPU", groupIdx: 0 });
    if (chunks.length === 0) {
      // Every running request it reached preempted itself (priority: the first was the worst):
      // vLLM's engine loop schedules again at once; idling here would strand the rest.
      if (preempted === 0) return null;
      const next = this.schedule(now);
      if (next !== null) next.preempted += preempted;
      return next;
    }

    let prefillTokens = 0;
    let decodeSeqs = 0;
    let ctxTokens = 0;
    for (const c of chunks) {
      const s = c.seq;
      if (c.numNew === 1 && s.numOutput > 0 && s.numComputed === s.tokens.length - 1) decodeSeqs++;
      else prefillTokens += c.numNew;
      ctxTokens += s.numComputed + c.numNew;
    }
    const k = cfg.costs;
    let ms =
      k.baseMs +
      (prefillTokens * k.prefillUsPerToken +
        decodeSeqs * k.decodeUsPerSeq +
        ctxTokens * k.attnUsPerCtxToken) /
        1000;
    if (k.jitter > 0) ms *= 1 + k.jitter * (2 * this.rng.next() - 1);
    if (cfg.enableLora) ms += this.loraDelay(chunks);
    if (cfg.stallProb > 0 && this.rng.next() < cfg.stallProb) ms += cfg.stallMs;
    return { chunks, startedAt: now, durationMs: ms, prefillTokens, decodeSeqs, ctxTokens, preempted };
  }

  /** Ends a step at time now: advances computed tokens, emits one token per sequence whose known
   *  tokens are all computed, finishes sequences that reached their length. */
  complete(plan: StepPlan, now: number): TokenEvent[] {
    const events: TokenEvent[] = [];
    const bs = this.config.blockSize;
    const caching = this.config.enablePrefixCaching;
    let finished = 0;
    let iterationTokens = 0; // vLLM: prompt lengths of newly prefilled requests + generated tokens
    for (const { seq, numNew } of plan.chunks) {
      if (seq.status !== "running") continue; // aborted or preempted meanwhile
      seq.numComputed += numNew;
      if (caching) {
        const full = Math.floor(seq.numComputed / bs);
        if (full > seq.numCachedBlocks) {
          this.ensureHashes(seq, full);
          const exts: bigint[] = [];
          for (let b = seq.numCachedBlocks; b < full; b++) {
            const ext = externalBlockHash(seq.digests[b]!);
            exts.push(ext);
            this.pool.cacheBlock(seq.blocks[b]!, seq.keys[b]!, ext);
          }
          if (this.events !== null) this.events.push(this.stored(seq, seq.numCachedBlocks, full, exts));
          seq.numCachedBlocks = full;
        }
      }
      if (seq.numComputed < seq.tokens.length) continue; // prefill chunk, no token yet
      const out = seq.numOutput;
      const word = (Math.imul(seq.wordSeed ^ (out * 0x9e3779b1), 2654435761) >>> 0) % OUTPUT_IDS.length;
      seq.tokens.push(OUTPUT_IDS[word]!);
      this.stats.generationTokens++;
      iterationTokens++;
      if (out === 0) {
        seq.firstToken = now;
        this.stats.promptTokens += seq.promptLen;
        iterationTokens += seq.promptLen;
        this.stats.ttft.observe(this.seconds(now - seq.arrival));
      } else {
        const gap = this.seconds(now - seq.lastToken);
        this.stats.tpot.observe(gap);
        this.stats.itl.observe(gap);
      }
      seq.lastToken = now;
      let finish: FinishReason | null = null;
      if (out + 1 >= seq.target) {
        finish = seq.target >= seq.maxTokens ? "length" : "stop";
        this.finish(seq, now, finish);
        finished++;
      }
      events.push({ seq, word, finish });
    }
    this.stats.iterationTokens.observe(iterationTokens);
    if (finished > 0) {
      let k = 0;
      for (const s of this.running) if (s.status === "running") this.running[k++] = s;
      this.running.length = k;
    }
    this.stats.numRunning = this.running.length;
    this.stats.numWaiting = this.waiting.length;
    this.stats.kvUsage = this.pool.usage();
    if (this.config.enableLora) this.updateLoraInfo();
    return events;
  }

  /** KV-cache events recorded since the last call (vLLM publishes them as one batch per step). */
  takeEvents(): KvCacheEvent[] {
    const out = this.events;
    if (out === null || out.length === 0) return [];
    this.events = [];
    return out;
  }

  /**
   * vLLM's reset_prefix_cache: forgets every cached block (AllBlocksCleared). With resetRunning the
   * running requests are preempted first (recomputed later); otherwise it fails (returns false) while
   * any request holds KV blocks.
   */
  resetPrefixCache(resetRunning: boolean): boolean {
    if (resetRunning) {
      while (this.running.length > 0) {
        this.preempt(this.running.pop()!);
        this.stats.preemptions++;
      }
      this.stats.numRunning = 0;
      this.stats.numWaiting = this.waiting.length;
      this.stats.kvUsage = this.pool.usage();
    }
    if (!this.pool.resetPrefixCache()) return false;
    this.events?.push({ type: "AllBlocksCleared" });
    return true;
  }

  /** Forgets a LoRA adapter from the host cache (after unload). */
  unloadAdapter(name: string): void {
    this.cpuLoras.delete(name);
    this.gpuLoras.delete(name);
  }

  /** Records the current running/waiting adapter sets with the given unix time. */
  updateLoraInfo(unixSeconds = Date.now() / 1000): void {
    const run = new Set<string>();
    const wait = new Set<string>();
    for (const s of this.running) if (s.adapter !== null) run.add(s.adapter);
    for (const s of this.waiting) if (s.adapter !== null) wait.add(s.adapter);
    const key = `${[...run].sort().join(",")}|${[...wait].sort().join(",")}`;
    const info = this.stats.loraInfo;
    info.delete(key);
    info.set(key, unixSeconds);
    // vLLM keeps every label combination forever; keep the most recent ones so memory stays bounded.
    if (info.size > LORA_INFO_SERIES_CAP) info.delete(info.keys().next().value!);
  }

  private enqueue(seq: Sequence, front: boolean): void {
    seq.status = "waiting";
    if (this.config.schedulingPolicy === "priority") {
      let lo = 0;
      let hi = this.waiting.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = this.waiting[mid]!;
        if (m.priority < seq.priority || (m.priority === seq.priority && m.arrival <= seq.arrival))
          lo = mid + 1;
        else hi = mid;
      }
      this.waiting.splice(lo, 0, seq);
    } else if (front) this.waiting.unshift(seq);
    else this.waiting.push(seq);
  }

  /**
   * FCFS: the newest running request (last); priority: max (priority, arrival) over the running list,
   * the first such request on ties (Python's max(), as vLLM's scheduler takes it).
   */
  private victimIndex(): number {
    if (this.config.schedulingPolicy !== "priority") return this.running.length - 1;
    let worst = 0;
    for (let j = 1; j < this.running.length; j++) {
      const a = this.running[j]!;
      const b = this.running[worst]!;
      if (a.priority > b.priority || (a.priority === b.priority && a.arrival > b.arrival)) worst = j;
    }
    return worst;
  }

  /** Preemption by recompute: drop all KV, progress back to 0, front of the waiting queue. */
  private preempt(seq: Sequence): void {
    this.releaseBlocks(seq);
    seq.numComputed = 0;
    seq.numCachedBlocks = 0;
    seq.preemptions++;
    this.enqueue(seq, true);
  }

  private releaseBlocks(seq: Sequence): void {
    for (let b = seq.blocks.length - 1; b >= 0; b--) this.pool.release(seq.blocks[b]!);
    seq.blocks = [];
  }

  private finish(seq: Sequence, now: number, reason: FinishReason): void {
    seq.status = "finished";
    seq.finishReason = reason;
    seq.finishedAt = now;
    this.releaseBlocks(seq);
    const st = this.stats;
    st.success[reason]++;
    const sec = (ms: number) => this.seconds(ms);
    st.e2e.observe(sec(now - seq.arrival));
    if (!Number.isNaN(seq.firstScheduled)) {
      st.queue.observe(sec(seq.firstScheduled - seq.arrival));
      st.inference.observe(sec(now - seq.firstScheduled));
      if (!Number.isNaN(seq.firstToken)) {
        st.prefill.observe(sec(seq.firstToken - seq.firstScheduled));
        st.decode.observe(sec(now - seq.firstToken));
      }
    }
    if (seq.numOutput > 1) st.requestTpot.observe(sec(now - seq.firstToken) / (seq.numOutput - 1));
    st.promptTokensHist.observe(seq.promptLen);
    st.generationTokensHist.observe(seq.numOutput);
    st.maxGenerationTokensHist.observe(seq.numOutput);
  }

  /** A simulated duration as the metrics report it: real seconds (EngineConfig.timeScale). */
  private seconds(simMs: number): number {
    return Math.max(0, simMs) / 1000 / this.config.timeScale;
  }

  /** Cached blocks for the longest cached prefix (leaving at least one token to compute). */
  private cachedPrefix(seq: Sequence): number[] {
    const maxBlocks = Math.floor((seq.tokens.length - 1) / this.config.blockSize);
    const hits: number[] = [];
    for (let b = 0; b < maxBlocks; b++) {
      this.ensureHashes(seq, b + 1);
      const block = this.pool.lookup(seq.keys[b]!);
      if (block === undefined) break;
      hits.push(block);
    }
    return hits;
  }

  /** vLLM block hashes of the sequence's first n full blocks (computed once, kept across preemption). */
  private ensureHashes(seq: Sequence, n: number): void {
    const from = seq.digests.length;
    if (from >= n) return;
    this.hasher.blockHashes(seq.tokens, this.config.blockSize, seq.adapter, seq.cacheSalt, seq.digests, n);
    for (let b = from; b < n; b++) seq.keys.push(blockHashKey(seq.digests[b]!));
  }

  /** vLLM's BlockStored for the sequence's blocks [from, to) just cached (exts: their external hashes). */
  private stored(seq: Sequence, from: number, to: number, exts: bigint[]): KvCacheEvent {
    const bs = this.config.blockSize;
    const extraKeys: (string[] | null)[] = [];
    for (let b = from; b < to; b++) extraKeys.push(extraKeysFor(b, seq.adapter, seq.cacheSalt));
    return {
      type: "BlockStored",
      blockHashes: exts,
      parentBlockHash: from === 0 ? null : externalBlockHash(seq.digests[from - 1]!),
      tokenIds: seq.tokens.slice(from * bs, to * bs),
      blockSize: bs,
      loraId: seq.loraId,
      medium: "GPU",
      loraName: seq.adapter,
      extraKeys,
      groupIdx: 0,
      kvCacheSpecKind: "full_attention",
      kvCacheSpecSlidingWindow: null,
    };
  }

  /** Cold-load and activation delay (ms) for the adapters of this batch; updates the LRU caches. */
  private loraDelay(chunks: ScheduledChunk[]): number {
    const batch = new Set<string>();
    for (const c of chunks) if (c.seq.adapter !== null) batch.add(c.seq.adapter);
    let ms = 0;
    for (const a of batch) {
      if (this.cpuLoras.has(a)) this.cpuLoras.delete(a);
      else ms += this.config.loraLoadMs;
      this.cpuLoras.set(a, true);
      if (!this.gpuLoras.has(a)) ms += this.config.loraActivateMs;
    }
    for (const a of this.cpuLoras.keys()) {
      if (this.cpuLoras.size <= this.config.maxCpuLoras) break;
      if (!batch.has(a)) this.cpuLoras.delete(a);
    }
    const gpu = new Set(batch);
    for (const a of this.gpuLoras) if (gpu.size < this.config.maxLoras) gpu.add(a);
    this.gpuLoras = gpu;
    return ms;
  }
}

/** Most `vllm:lora_requests_info` series kept (oldest dropped first). */
const LORA_INFO_SERIES_CAP = 256;

function remove(list: Sequence[], seq: Sequence): void {
  const i = list.indexOf(seq);
  if (i >= 0) list.splice(i, 1);
}
