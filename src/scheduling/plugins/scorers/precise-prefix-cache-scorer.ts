/**
 * precise-prefix-cache-scorer (named like llm-d's): score = leading blocks of the request's prompt
 * that the endpoint's KV events say it holds / full blocks in the prompt.
 *
 * The gateway subscribes to every endpoint's vLLM KV-cache events (kvcache/kv-events-tracker.ts) and
 * computes the request's vLLM block-hash chain from its token ids (kvcache/block-key-chain.ts):
 * tokens from the simulator's documented tokenizer (`tokenizer: simulator`, for `igw sim` pools) or
 * from a real model's tokenizer.json (`tokenizerPath`, kvcache/hf-tokenizer.ts),
 * hashes with the servers' PYTHONHASHSEED and `--prefix-caching-hash-algo`, blocks of the scraped
 * block_size. Blocks just sent to an endpoint count as held there until its events confirm them
 * (the tracker's speculative blocks), so a burst does not see an empty cache everywhere. For an
 * endpoint whose events stopped (see the tracker) it scores with an approximate index of the blocks
 * sent to each endpoint (prefix-index.ts on the same block keys), which learns every decision so it
 * is warm when needed.
 */
import { z } from "zod";
import { FieldIssueError } from "../../../config/field-issue.ts";
import { BlockKeyChain } from "../../../kvcache/block-key-chain.ts";
import { loadTokenizerJson, type TokenizeFn, TokenizerLoadError } from "../../../kvcache/hf-tokenizer.ts";
import {
  type KvEventsSource,
  KvEventsTracker,
  type KvEventsTrackerOptions,
} from "../../../kvcache/kv-events-tracker.ts";
import { simTokenIds } from "../../../kvcache/sim-token-ids.ts";
import { HASH_ALGOS, type HashAlgo, VllmBlockHasher } from "../../../kvcache/vllm-block-hash.ts";
import type {
  Closeable,
  EndpointRemovedListener,
  MetricsSource,
  PluginMetrics,
} from "../../../plugins/capabilities.ts";
import { definePlugin } from "../../../plugins/registry.ts";
import type { PrefixMatch, PrefixMatchSource } from "../../prefix-match.ts";
import type { Candidate, PreRequestHook, RequestPreparer, SchedulingRequest, Scorer } from "../../types.ts";
import { PrefixIndex } from "../prefix/prefix-index.ts";

/** An endpoint's events source as configured: a PUB endpoint, or both endpoints. */
export type KvEventsEndpointSpec = string | { endpoint: string; replayEndpoint?: string | null };

export interface PrecisePrefixCacheScorerOptions {
  /** The servers' PYTHONHASHSEED (vLLM hashes are reproducible only with it set). */
  hashSeed: string;
  hashAlgo: HashAlgo;
  /** Tokens per block when the endpoint's scrape does not report block_size. */
  blockSize: number;
  /** Where the token ids come from: igw sim's tokenizer, or the tokenizer.json at tokenizerPath. */
  tokenizer: "simulator" | "huggingface";
  /** A model's tokenizer.json (local path), with tokenizer "huggingface". */
  tokenizerPath?: string | undefined;
  /** Endpoint id (host:port) → its events source; others use tcp://host:kvEventsPort. */
  kvEventsEndpoints: Record<string, KvEventsEndpointSpec>;
  kvEventsPort: number;
  /** Replay (ROUTER) port for endpoints not in kvEventsEndpoints; null = no replay. */
  kvEventsReplayPort: number | null;
  topic: string;
  /** Events count as stopped after work was sent and none came for this long (ms). */
  staleAfterMs: number;
  maxPrefixBlocksToMatch: number;
  /** Bound on blocks remembered per endpoint. */
  maxBlocksPerEndpoint: number;
  /** How long blocks sent to an endpoint count as held before its events confirm them (ms). */
  speculativeTtlMs: number;
  /**
   * For the cost model (prefixMatch) on endpoints with live events: true = only what the events
   * show held (and blocks just sent); false = the larger of that and the sent index.
   */
  trustEvictions: boolean;
}

/** A request's own preparation (prepareRequest): its tokens and block keys, no endpoint involved. */
interface Prepared {
  /** The request's prefix text (the request's own string). */
  readonly text: string;
  /** Tokens were counted up to this many (maxPrefixBlocksToMatch × the largest block size known). */
  readonly maxTokens: number;
  /** The prompt's token count, at most maxTokens. */
  readonly tokens: number;
  /** LoRA name mixed into the keys (adapter requests), else null. */
  readonly lora: string | null;
  /** The token ids; dropped once keys exist for every block size seen (a new one re-tokenizes). */
  ids: number[] | null;
  /** Per block size: the request's block keys. */
  readonly keys: Map<number, number[]>;
}

/** One decision's view of a request: its preparation and what each candidate holds of it. */
interface Scored {
  /** The request itself: request ids are the client's and may repeat, the object is one per request. */
  readonly request: SchedulingRequest;
  readonly prepared: Prepared;
  /** Prompt tokens, at most maxPrefixBlocksToMatch blocks of the largest candidate block size. */
  readonly tokens: number;
  /** Per block size: endpoint id → leading blocks of the request the sent index holds there. */
  readonly sent: Map<number, Map<string, number>>;
  /** The candidates the arrays below belong to (score and prefixMatch of one decision share them). */
  heldFor: readonly Candidate[] | undefined;
  /** Per candidate: leading blocks held (events live), or -1 (events stopped). */
  held: Int32Array;
  /** Per candidate: leading blocks the sent index holds there. */
  sentBlocks: Int32Array;
  /** Per candidate: the request's blocks in that candidate's block size. */
  blocks: Int32Array;
}

/** Blocks assumed per endpoint when its cache size is not scraped (the approximate scorer's default). */
const DEFAULT_CAPACITY_BLOCKS = 31_250;

export class PrecisePrefixCacheScorer
  implements
    Scorer,
    PrefixMatchSource,
    RequestPreparer,
    PreRequestHook,
    Closeable,
    MetricsSource,
    EndpointRemovedListener
{
  readonly type = "precise-prefix-cache-scorer";
  readonly name: string;
  readonly options: PrecisePrefixCacheScorerOptions;
  readonly tracker: KvEventsTracker;
  readonly #chain: BlockKeyChain;
  readonly #tokenize: TokenizeFn;
  /**
   * Per block size: the blocks each endpoint was sent, aged by tokens like the server's LRU (the
   * approximate index, on the same block keys and exact token counts). It scores endpoints whose
   * events stopped, and is warm for that because it learns every decision.
   */
  readonly #sentIndex = new Map<number, PrefixIndex<number>>();
  /** Block sizes seen on candidates: prepareRequest keys the request for each. */
  readonly #blockSizes = new Set<number>();
  /** Largest of #blockSizes and the configured blockSize. */
  #maxBlockSize: number;
  /** Each request's preparation, keyed by the request object (gone with the request). */
  readonly #prepared = new WeakMap<SchedulingRequest, Prepared>();
  #last: Scored | undefined;
  #hitBlocks = 0;
  #lookupBlocks = 0;

  /** `events`: the tracker's clock and subscription factory (default performance.now and ZMQ). */
  constructor(
    name: string,
    options: PrecisePrefixCacheScorerOptions,
    events: Pick<KvEventsTrackerOptions, "now" | "connect"> = {},
  ) {
    this.name = name;
    this.options = options;
    this.#maxBlockSize = options.blockSize;
    this.#chain = new BlockKeyChain(new VllmBlockHasher(options.hashAlgo, options.hashSeed));
    this.#tokenize =
      options.tokenizer === "huggingface"
        ? loadTokenizerJson(options.tokenizerPath ?? "")
        : (text, max) => simTokenIds(promptTextOf(text), max);
    this.tracker = new KvEventsTracker({
      sourceFor: (id, host) => this.sourceFor(id, host),
      topic: options.topic,
      maxBlocksPerEndpoint: options.maxBlocksPerEndpoint,
      staleAfterMs: options.staleAfterMs,
      speculativeTtlMs: options.speculativeTtlMs,
      onProblem: warnOnce,
      ...events,
    });
  }

  /** The events source of an endpoint: kvEventsEndpoints, else tcp://host:kvEventsPort. */
  sourceFor(endpointId: string, host: string): KvEventsSource {
    const spec = this.options.kvEventsEndpoints[endpointId];
    if (typeof spec === "string") return { endpoint: spec, replayEndpoint: null };
    if (spec !== undefined) return { endpoint: spec.endpoint, replayEndpoint: spec.replayEndpoint ?? null };
    const h = host.includes(":") ? `[${host}]` : host;
    const replay = this.options.kvEventsReplayPort;
    return {
      endpoint: `tcp://${h}:${this.options.kvEventsPort}`,
      replayEndpoint: replay === null ? null : `tcp://${h}:${replay}`,
    };
  }

  #blockSize(c: Candidate): number {
    return c.metrics.blockSize ?? this.options.blockSize;
  }

  #sentIndexFor(blockSize: number): PrefixIndex<number> {
    let index = this.#sentIndex.get(blockSize);
    if (index === undefined) {
      index = new PrefixIndex<number>(blockSize);
      this.#sentIndex.set(blockSize, index);
    }
    return index;
  }

  /**
   * The request's tokens and block keys for every block size seen so far (the director calls it
   * once per request, before admission; a decision over an unprepared request calls it itself).
   */
  prepareRequest(request: SchedulingRequest): void {
    this.#prepare(request, this.options.maxPrefixBlocksToMatch * this.#maxBlockSize);
  }

  #prepare(request: SchedulingRequest, maxTokens: number): Prepared {
    const ids = this.#tokenize(request.prefixText, maxTokens);
    const p: Prepared = {
      text: request.prefixText,
      maxTokens,
      tokens: ids.length,
      lora: request.isAdapter ? request.targetModel : null,
      ids,
      keys: new Map(),
    };
    for (const bs of this.#blockSizes) this.#keysOf(p, bs);
    if (this.#blockSizes.size > 0) p.ids = null;
    this.#prepared.set(request, p);
    return p;
  }

  /** The prepared request's keys in blocks of `blockSize` (computed on first use). */
  #keysOf(p: Prepared, blockSize: number): number[] {
    let keys = p.keys.get(blockSize);
    if (keys === undefined) {
      const ids = p.ids ?? this.#tokenize(p.text, p.maxTokens);
      keys = this.#chain.keys(ids, blockSize, p.lora, this.options.maxPrefixBlocksToMatch);
      p.keys.set(blockSize, keys);
    }
    return keys;
  }

  /**
   * The request's preparation (done now if it was not) and sent-index matches per block size, once
   * per request; and, once per candidate list, what each candidate holds.
   */
  #request(request: SchedulingRequest, candidates: readonly Candidate[]): Scored {
    let s = this.#last;
    if (s?.request !== request) {
      let maxBs = 0;
      for (const c of candidates) {
        const bs = this.#blockSize(c);
        if (bs > maxBs) maxBs = bs;
        if (!this.#blockSizes.has(bs)) {
          this.#blockSizes.add(bs);
          if (bs > this.#maxBlockSize) this.#maxBlockSize = bs;
        }
      }
      const limit = this.options.maxPrefixBlocksToMatch * (maxBs || this.options.blockSize);
      let p = this.#prepared.get(request);
      // Tokens counted up to a larger limit are the same tokens, and give the same keys.
      if (p === undefined || p.maxTokens < limit) p = this.#prepare(request, limit);
      s = {
        request,
        prepared: p,
        tokens: Math.min(p.tokens, limit),
        sent: new Map(),
        heldFor: undefined,
        held: EMPTY,
        sentBlocks: EMPTY,
        blocks: EMPTY,
      };
      this.#last = s;
    }
    if (s.heldFor !== candidates) {
      s.heldFor = candidates;
      this.#held(s, candidates);
    }
    return s;
  }

  /** Fills s.held, s.sentBlocks and s.blocks for the candidates. */
  #held(s: Scored, candidates: readonly Candidate[]): void {
    const n = candidates.length;
    const now = this.tracker.nowMs();
    s.held = new Int32Array(n);
    s.sentBlocks = new Int32Array(n);
    s.blocks = new Int32Array(n);
    let bs = -1;
    let keys: number[] = [];
    let sent: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const c = candidates[i]!;
      const cbs = this.#blockSize(c);
      if (cbs !== bs) {
        bs = cbs;
        keys = this.#keysOf(s.prepared, bs);
        sent = s.sent.get(bs);
        if (sent === undefined) {
          sent = this.#sentIndexFor(bs).matchPrefix(keys);
          s.sent.set(bs, sent);
        }
      }
      const id = c.endpoint.id;
      s.held[i] = this.tracker.held(id, c.endpoint.host, keys, now) ?? -1;
      s.sentBlocks[i] = sent!.get(id) ?? 0;
      s.blocks[i] = keys.length;
    }
  }

  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    const s = this.#request(request, candidates);
    const n = candidates.length;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const total = s.blocks[i]!;
      const h = s.held[i]!;
      out[i] = total === 0 ? 0 : (h < 0 ? s.sentBlocks[i]! : h) / total;
    }
    return out;
  }

  /**
   * For the cost model: the tokenizer's prompt length, and per candidate the larger of the tokens
   * its events show held and the tokens the sent index holds there (aged like the server's LRU; all
   * there is when events stopped). So a group whose prefix was just evicted everywhere goes back to
   * where it was last sent, and is cached there again, instead of wandering from server to server.
   */
  prefixMatch(request: SchedulingRequest, candidates: readonly Candidate[]): PrefixMatch {
    const s = this.#request(request, candidates);
    const n = s.tokens;
    const cachedTokens = new Array<number>(candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const h = s.held[i]!;
      const sent = s.sentBlocks[i]!;
      const blocks = h < 0 ? sent : this.options.trustEvictions ? h : Math.max(h, sent);
      cachedTokens[i] = Math.min(n, blocks * this.#blockSize(candidates[i]!));
    }
    return { promptTokens: n, cachedTokens };
  }

  preRequest(request: SchedulingRequest, chosen: Candidate): void {
    // The decision's own matches when it just scored this request (a retry's fallback recomputes).
    const last = this.#last;
    const scored = last?.request === request && last.heldFor?.includes(chosen) ? last.heldFor : [chosen];
    const s = this.#request(request, scored);
    const i = scored.indexOf(chosen);
    const id = chosen.endpoint.id;
    const bs = this.#blockSize(chosen);
    const keys = this.#keysOf(s.prepared, bs);
    this.#hitBlocks += this.tracker.watch(id, chosen.endpoint.host).leadingHeld(keys);
    this.#lookupBlocks += keys.length;
    this.tracker.dispatched(id, keys);
    // The sent index ages by what the server allocates: the uncached prompt tokens plus the output.
    const cached = Math.max(s.held[i]!, s.sentBlocks[i]!) * bs;
    const newTokens = Math.max(0, s.tokens - cached) + (request.maxTokens ?? 0);
    const capacity = (chosen.metrics.numGpuBlocks ?? DEFAULT_CAPACITY_BLOCKS) * bs;
    this.#sentIndexFor(bs).add(id, keys, newTokens, capacity);
    this.#last = undefined; // the index changed: a retry of this request recomputes its matches
  }

  endpointRemoved(endpointId: string): void {
    this.tracker.remove(endpointId);
    for (const index of this.#sentIndex.values()) index.removeEndpoint(endpointId);
  }

  pluginMetrics(): PluginMetrics {
    return {
      prefixIndex: {
        indexSize: this.tracker.totalBlocks,
        hitBlocks: this.#hitBlocks,
        lookupBlocks: this.#lookupBlocks,
      },
    };
  }

  close(): void {
    this.tracker.close();
  }
}

const EMPTY = new Int32Array(0);

/**
 * The prompt text the simulator tokenizes: the canonical chat form's `<|role|>` markers
 * (request-prefix-text.ts) are message boundaries, which the simulator does not tokenize.
 */
function promptTextOf(prefixText: string): string {
  return prefixText.includes("<|") ? prefixText.replace(/<\|[^|<>]*\|>/g, " ") : prefixText;
}

const warned = new Set<string>();
/** One warning per endpoint and kind of problem (process warnings go to stderr). */
function warnOnce(endpointId: string, message: string): void {
  const key = `${endpointId} ${message.split(" ").slice(0, 3).join(" ")}`;
  if (warned.has(key) || warned.size > 10_000) return;
  warned.add(key);
  process.emitWarning(`precise-prefix-cache-scorer: endpoint ${endpointId}: ${message}`);
}

const endpointSpec = z.union([
  z.string().regex(/^(tcp|ipc|inproc):\/\//, "a ZMQ endpoint such as tcp://10.0.0.5:5557"),
  z.strictObject({
    endpoint: z.string().regex(/^(tcp|ipc|inproc):\/\//, "a ZMQ endpoint such as tcp://10.0.0.5:5557"),
    replayEndpoint: z
      .string()
      .regex(/^(tcp|ipc|inproc):\/\//, "a ZMQ endpoint such as tcp://10.0.0.5:5558")
      .nullable()
      .optional(),
  }),
]);

export const precisePrefixCacheScorerPlugin = definePlugin({
  type: "precise-prefix-cache-scorer",
  kind: "scorer",
  description:
    "prefers endpoints whose vLLM KV-cache events show the longest leading part of this prompt cached",
  parameters: z.strictObject({
    hashSeed: z.string({
      error: 'hashSeed is required: the PYTHONHASHSEED every server of the pool runs with (e.g. "0")',
    }),
    hashAlgo: z.enum(HASH_ALGOS).default("sha256"),
    blockSize: z.number().int().min(1).max(4096).default(16),
    tokenizer: z.enum(["simulator", "huggingface"]).optional(),
    tokenizerPath: z.string().min(1).optional(),
    kvEventsEndpoints: z.record(z.string(), endpointSpec).default({}),
    kvEventsPort: z.number().int().min(1).max(65535).default(5557),
    kvEventsReplayPort: z.number().int().min(1).max(65535).nullable().default(null),
    topic: z.string().default(""),
    staleAfterMs: z.number().int().min(1).default(5000),
    maxPrefixBlocksToMatch: z.number().int().min(1).max(4096).default(256),
    maxBlocksPerEndpoint: z
      .number()
      .int()
      .min(1)
      .default(1 << 20),
    speculativeTtlMs: z.number().int().min(0).default(10_000),
    trustEvictions: z.boolean().default(false),
  }),
  create: (name, p) => {
    const { tokenizer = p.tokenizerPath === undefined ? "simulator" : "huggingface", ...rest } = p;
    const issue = (path: string, message: string) =>
      new FieldIssueError([{ path: ["parameters", path], message }]);
    if (tokenizer === "simulator" && p.tokenizerPath !== undefined)
      throw issue(
        "tokenizer",
        'tokenizer "simulator" takes no tokenizerPath (leave tokenizer out to use the file)',
      );
    if (tokenizer === "huggingface" && p.tokenizerPath === undefined)
      throw issue(
        "tokenizerPath",
        'tokenizer "huggingface" needs tokenizerPath, the model\'s tokenizer.json',
      );
    try {
      return new PrecisePrefixCacheScorer(name, { ...rest, tokenizer });
    } catch (e) {
      if (e instanceof TokenizerLoadError) throw issue("tokenizerPath", e.message);
      throw e;
    }
  },
});
