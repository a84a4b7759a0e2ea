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
import type { Candidate, PreRequestHook, SchedulingRequest, Scorer } from "../../types.ts";
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

interface Scored {
  /** The request itself: request ids are the client's and may repeat, the object is one per request. */
  readonly request: SchedulingRequest;
  /** The prompt's token ids (at most maxPrefixBlocksToMatch blocks of them). */
  readonly ids: number[];
  /** Per block size: the request's block keys. */
  readonly keys: Map<number, number[]>;
  /** Per block size: endpoint id → leading blocks of the request the sent index holds there. */
  readonly sent: Map<number, Map<string, number>>;
  /** The candidates `held` belongs to (score and prefixMatch of one decision share it). */
  heldFor: readonly Candidate[] | undefined;
  /** Per candidate: leading blocks held (events live), or null (events stopped). */
  held: (number | null)[];
}

/** Blocks assumed per endpoint when its cache size is not scraped (the approximate scorer's default). */
const DEFAULT_CAPACITY_BLOCKS = 31_250;

export class PrecisePrefixCacheScorer
  implements Scorer, PreRequestHook, PrefixMatchSource, MetricsSource, EndpointRemovedListener, Closeable
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
   * The request's tokens, block keys and sent-index matches (per block size), computed once per
   * request; and, once per candidate list, what each candidate's events show held.
   */
  #request(request: SchedulingRequest, candidates: readonly Candidate[]): Scored {
    let s = this.#last;
    if (s?.request !== request) {
      const maxTokens =
        this.options.maxPrefixBlocksToMatch * maxBlockSize(candidates, this.options.blockSize);
      const ids = this.#tokenize(request.prefixText, maxTokens);
      s = { request, ids, keys: new Map(), sent: new Map(), heldFor: undefined, held: [] };
      this.#last = s;
    }
    const lora = request.isAdapter ? request.targetModel : null;
    for (const c of candidates) {
      const bs = this.#blockSize(c);
      if (s.keys.has(bs)) continue;
      const keys = this.#chain.keys(s.ids, bs, lora, this.options.maxPrefixBlocksToMatch);
      s.keys.set(bs, keys);
      s.sent.set(bs, this.#sentIndexFor(bs).matchPrefix(keys));
    }
    if (s.heldFor !== candidates) {
      s.heldFor = candidates;
      s.held = this.#held(s, candidates);
    }
    return s;
  }

  /** Per candidate: leading blocks held or sent and not yet confirmed (events live), or null. */
  #held(s: Scored, candidates: readonly Candidate[]): (number | null)[] {
    const now = this.tracker.nowMs();
    const held = new Array<number | null>(candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      held[i] = this.tracker.held(c.endpoint.id, c.endpoint.host, s.keys.get(this.#blockSize(c))!, now);
    }
    return held;
  }

  /** Leading blocks of the request the sent index holds on candidate c. */
  #sentBlocks(s: Scored, c: Candidate): number {
    return s.sent.get(this.#blockSize(c))!.get(c.endpoint.id) ?? 0;
  }

  score(request: SchedulingRequest, candidates: readonly Candidate[]): number[] {
    const s = this.#request(request, candidates);
    return candidates.map((c, i) => {
      const total = s.keys.get(this.#blockSize(c))!.length;
      return total === 0 ? 0 : (s.held[i] ?? this.#sentBlocks(s, c)) / total;
    });
  }

  /**
   * For the cost model: the tokenizer's prompt length, and per candidate the larger of the tokens
   * its events show held and the tokens the sent index holds there (aged like the server's LRU; all
   * there is when events stopped). So a group whose prefix was just evicted everywhere goes back to
   * where it was last sent, and is cached there again, instead of wandering from server to server.
   */
  prefixMatch(request: SchedulingRequest, candidates: readonly Candidate[]): PrefixMatch {
    const s = this.#request(request, candidates);
    const n = s.ids.length;
    return {
      promptTokens: n,
      cachedTokens: candidates.map((c, i) => {
        const h = s.held[i];
        const blocks =
          h === null || h === undefined
            ? this.#sentBlocks(s, c)
            : this.options.trustEvictions
              ? h
              : Math.max(h, this.#sentBlocks(s, c));
        return Math.min(n, blocks * this.#blockSize(c));
      }),
    };
  }

  preRequest(request: SchedulingRequest, chosen: Candidate): void {
    // The decision's own matches when it just scored this request (a retry's fallback recomputes).
    const last = this.#last;
    const scored = last?.request === request && last.heldFor?.includes(chosen) ? last.heldFor : [chosen];
    const s = this.#request(request, scored);
    const i = scored.indexOf(chosen);
    const id = chosen.endpoint.id;
    const bs = this.#blockSize(chosen);
    const keys = s.keys.get(bs)!;
    this.#hitBlocks += this.tracker.watch(id, chosen.endpoint.host).leadingHeld(keys);
    this.#lookupBlocks += keys.length;
    this.tracker.dispatched(id, keys);
    // The sent index ages by what the server allocates: the uncached prompt tokens plus the output.
    const cached = Math.max(s.held[i] ?? 0, this.#sentBlocks(s, chosen)) * bs;
    const newTokens = Math.max(0, s.ids.length - cached) + (request.maxTokens ?? 0);
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

function maxBlockSize(candidates: readonly Candidate[], dflt: number): number {
  let m = 0;
  for (const c of candidates) m = Math.max(m, c.metrics.blockSize ?? dflt);
  return m || dflt;
}

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
