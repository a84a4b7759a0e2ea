/**
 * prefix-cache-scorer (approximate): score = leading blocks of the request's prefix text the
 * endpoint was sent before and still holds / blocks in the request. It is also a RequestPreparer
 * (the text's block hashes, once per request before its decision), a PreRequestHook (the
 * index learns the blocks of each request on the endpoint actually chosen), a MetricsSource (index
 * size, hit ratio) and an EndpointRemovedListener (a departed endpoint's blocks are dropped).
 *
 * What an endpoint still holds is aged by tokens like the server's LRU (prefix-index.ts): each request
 * advances the chosen endpoint's clock by its uncached prompt tokens plus max_tokens, and the
 * capacity is the server's cache as scraped from `vllm:cache_config_info` (num_gpu_blocks ×
 * block_size, `autoTune`), else lruCapacityPerServer blocks of hashBlockSize ÷ 4 tokens.
 */
import { z } from "zod";
import type { EndpointRemovedListener, MetricsSource, PluginMetrics } from "../../../plugins/capabilities.ts";
import { definePlugin } from "../../../plugins/registry.ts";
import type { PrefixMatch, PrefixMatchSource } from "../../prefix-match.ts";
import type { Candidate, PreRequestHook, RequestPreparer, SchedulingRequest, Scorer } from "../../types.ts";
import { prefixBlockHashes } from "../prefix/prefix-hasher.ts";
import { PrefixIndex } from "../prefix/prefix-index.ts";

export interface PrefixCacheScorerOptions {
  /** Characters per block (default 64 ≈ 16 tokens). */
  hashBlockSize: number;
  /** Blocks considered at most (default 256). */
  maxPrefixBlocksToMatch: number;
  /** Blocks per endpoint when its cache size is not scraped, or autoTune is off (default 31,250). */
  lruCapacityPerServer: number;
  /** Size each endpoint's LRU from its scraped num_gpu_blocks × block_size (default true). */
  autoTune: boolean;
}

/** Characters per token of the gateway's token estimate (requestcontrol's estimateTokens). */
const CHARS_PER_TOKEN = 4;

export class PrefixCacheScorer
  implements
    Scorer,
    RequestPreparer,
    PreRequestHook,
    PrefixMatchSource,
    MetricsSource,
    EndpointRemovedListener
{
  readonly type = "prefix-cache-scorer";
  readonly name: string;
  readonly options: PrefixCacheScorerOptions;
  readonly index: PrefixIndex;
  #hitBlocks = 0;
  #lookupBlocks = 0;
  /** Each request's block hashes (prepareRequest), keyed by the request object (gone with the request). */
  readonly #prepared = new WeakMap<SchedulingRequest, bigint[]>();
  /**
   * The last scored request (schedule and preRequest run back to back), to match once; keyed by the
   * request object, as request ids are the client's and may repeat.
   */
  #last: { request: SchedulingRequest; hashes: bigint[]; matched: Map<string, number> } | undefined;

  constructor(name = "prefix-cache-scorer", options: Partial<PrefixCacheScorerOptions> = {}) {
    this.name = name;
    this.options = {
      hashBlockSize: options.hashBlockSize ?? 64,
      maxPrefixBlocksToMatch: options.maxPrefixBlocksToMatch ?? 256,
      lruCapacityPerServer: options.lruCapacityPerServer ?? 31_250,
      autoTune: options.autoTune ?? true,
    };
    this.index = new PrefixIndex(this.options.hashBlockSize / CHARS_PER_TOKEN);
  }

  /** Tokens the endpoint's cache holds: scraped when autoTune and known, else the configured blocks. */
  capacityTokens(c: Candidate): number {
    const { numGpuBlocks, blockSize } = c.metrics;
    if (this.options.autoTune && numGpuBlocks !== undefined && blockSize !== undefined)
      return numGpuBlocks * blockSize;
    return this.options.lruCapacityPerServer * this.index.tokensPerEntry;
  }

  /** Hashes the request's prefix text into blocks, once per request, before its decision (the director calls it). */
  prepareRequest(request: SchedulingRequest): void {
    this.#hashes(request);
  }

  /** The request's block hashes: prepared, else computed now. */
  #hashes(request: SchedulingRequest): bigint[] {
    let hashes = this.#prepared.get(request);
    if (hashes === undefined) {
      hashes = prefixBlockHashes(
        request.prefixText,
        request.targetModel,
        this.options.hashBlockSize,
        this.options.maxPrefixBlocksToMatch,
      );
      this.#prepared.set(request, hashes);
    }
    return hashes;
  }

  /** The request's block hashes and each endpoint's match, matched once per request. */
  #matched(request: SchedulingRequest): { hashes: bigint[]; matched: Map<string, number> } {
    if (this.#last?.request === request) return this.#last;
    const hashes = this.#hashes(request);
    const matched = this.index.matchPrefix(hashes);
    this.#last = { request, hashes, matched };
    return this.#last;
  }

  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    const { hashes, matched } = this.#matched(request);
    const total = hashes.length;
    return candidates.map((c) => (total === 0 ? 0 : (matched.get(c.endpoint.id) ?? 0) / total));
  }

  /**
   * Estimated prompt tokens, and per candidate its matched blocks × tokens per block (capped). Only
   * the hashed window (maxPrefixBlocksToMatch blocks) is known: beyond it every endpoint looks
   * alike, so a longer prompt counts as the window, as the precise index counts it; otherwise a
   * prompt whose window is cached on an endpoint would still show its whole tail uncached there
   * (1,500 estimated tokens of a 4,000-word prefix), and its group would leave a replica that
   * holds it as soon as a few requests queue there.
   */
  prefixMatch(request: SchedulingRequest, candidates: readonly Candidate[]): PrefixMatch {
    const { hashes, matched } = this.#matched(request);
    const per = this.index.tokensPerEntry;
    const windowFull = hashes.length >= this.options.maxPrefixBlocksToMatch;
    const promptTokens = windowFull
      ? Math.min(request.promptTokens, hashes.length * per)
      : request.promptTokens;
    return {
      promptTokens,
      estimated: true,
      cachedTokens: candidates.map((c) => Math.min(promptTokens, (matched.get(c.endpoint.id) ?? 0) * per)),
    };
  }

  preRequest(request: SchedulingRequest, chosen: Candidate): void {
    const { hashes, matched } = this.#matched(request);
    const id = chosen.endpoint.id;
    const hit = matched.get(id) ?? 0;
    this.#hitBlocks += hit;
    this.#lookupBlocks += hashes.length;
    const uncached = Math.max(0, request.promptTokens - hit * this.index.tokensPerEntry);
    this.index.add(id, hashes, uncached + (request.maxTokens ?? 0), this.capacityTokens(chosen));
    this.#last = undefined;
  }

  /** Forget an endpoint that left the pool. */
  endpointRemoved(endpointId: string): void {
    this.index.removeEndpoint(endpointId);
  }

  pluginMetrics(): PluginMetrics {
    return {
      prefixIndex: {
        indexSize: this.index.size,
        hitBlocks: this.#hitBlocks,
        lookupBlocks: this.#lookupBlocks,
      },
    };
  }
}

export const prefixCacheScorerPlugin = definePlugin({
  type: "prefix-cache-scorer",
  kind: "scorer",
  description:
    "prefers endpoints that were sent the longest leading part of this prompt (approximate prefix cache)",
  parameters: z.strictObject({
    hashBlockSize: z.number().int().min(1).max(4096).default(64),
    maxPrefixBlocksToMatch: z.number().int().min(1).max(4096).default(256),
    lruCapacityPerServer: z.number().int().min(1).default(31_250),
    autoTune: z.boolean().default(true),
  }),
  create: (name, p) => new PrefixCacheScorer(name, p),
});
