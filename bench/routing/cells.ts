/**
 * The prefix family of `npm run bench:routing`: cells spanning prefix groups 4–64, prefix lengths
 * 500–4,000 tokens, KV capacity from tight to ample, concurrency 16–128, closed-loop bursts and
 * Poisson arrivals, and cells where nothing is shared. Each cell runs once per seed; the seed
 * changes every prompt and arrival. Read by bench/routing.ts.
 */
import type { TrafficClass } from "../../src/bench/config.ts";

/** Replicas behind every target, and their simulated GPU. */
export const REPLICAS = 5;
export const PROFILE = "h100-8b";
export const BLOCK_SIZE = 16;
/** The profile's own KV cache (29,205 blocks, about 467k tokens per replica). */
const PROFILE_BLOCKS = 29_205;

/**
 * KV capacity per replica, relative to the cell's shared prefixes: "tight" holds 1.5× one replica's
 * share of the prefixes (groups × prefix / replicas) plus the running requests, so a replica keeps
 * its own groups only if groups stay put; "medium" holds every prefix once (a replica could cache
 * all groups, barely); "ample" is the profile's full cache.
 */
export type KvLevel = "tight" | "medium" | "ample";

/** One workload of the family. */
export interface Cell {
  /** e.g. "g16-p2000-medium-c32-burst"; --cells matches it. */
  name: string;
  /** Prefix groups; 0 = nothing shared (every prompt unique). */
  groups: number;
  /** Shared tokens per group (0 when nothing is shared). */
  prefixLen: number;
  /** Unique tokens after the prefix (mean, when rangeRatio > 0). */
  suffixLen: number;
  outputLen: number;
  /** Spread of the unique part: lengths uniform in [1−r, 1+r]× suffixLen. */
  rangeRatio: number;
  kv: KvLevel;
  /** Requests in flight at most (the client's limit, spread evenly over the groups). */
  concurrency: number;
  /** "burst": every request released at t0 (closed loop at the concurrency); "poisson": rate below. */
  arrival: "burst" | "poisson";
  /** Poisson arrivals per second of simulated time, all groups together. */
  rate: number;
  /** Requests in all. */
  requests: number;
}

function cell(
  groups: number,
  prefixLen: number,
  kv: KvLevel,
  concurrency: number,
  arrival: Cell["arrival"],
): Cell {
  const shared = groups > 0;
  return {
    name: shared
      ? `g${groups}-p${prefixLen}-${kv}-c${concurrency}-${arrival}`
      : `unique-${kv}-c${concurrency}-${arrival}`,
    groups,
    prefixLen: shared ? prefixLen : 0,
    suffixLen: shared ? 100 : 1000,
    outputLen: 100,
    rangeRatio: shared ? 0 : 0.5,
    kv,
    concurrency,
    arrival,
    rate: concurrency / 2,
    requests: Math.max(4 * concurrency, 4 * Math.max(groups, 1)),
  };
}

/** The full grid: each dimension's range, with each value in more than one cell. */
export const GRID: readonly Cell[] = [
  cell(4, 2000, "tight", 16, "burst"),
  cell(8, 2000, "tight", 64, "burst"),
  cell(16, 2000, "medium", 32, "burst"),
  cell(16, 500, "tight", 64, "poisson"),
  cell(32, 1000, "tight", 64, "burst"),
  cell(64, 500, "medium", 128, "poisson"),
  cell(64, 1000, "tight", 128, "burst"),
  cell(8, 4000, "tight", 32, "poisson"),
  cell(4, 4000, "ample", 64, "burst"),
  cell(32, 4000, "medium", 128, "burst"),
  cell(0, 0, "medium", 64, "poisson"),
  cell(0, 0, "tight", 32, "burst"),
];

/** `--quick`: three cells (a thrashing one, a many-groups one, nothing shared). */
export const QUICK_CELLS = [
  "g8-p2000-tight-c64-burst",
  "g16-p500-tight-c64-poisson",
  "unique-tight-c32-burst",
];

/** The cell with its request count scaled (at least one request per group and per concurrency slot). */
export function scaleRequests(c: Cell, scale: number): Cell {
  return { ...c, requests: Math.max(Math.ceil(c.requests * scale), c.concurrency, c.groups) };
}

/** The simulators' --max-model-len for the cell: its longest request, rounded up to 256 tokens. */
export function maxModelLen(c: Cell): number {
  return Math.ceil((c.prefixLen + c.suffixLen * (1 + c.rangeRatio) + c.outputLen + 1) / 256) * 256;
}

/** KV blocks per replica for the cell (see KvLevel); at least what one maximal request needs. */
export function kvBlocks(c: Cell): number {
  if (c.kv === "ample") return PROFILE_BLOCKS;
  const running = (c.concurrency / REPLICAS) * (c.suffixLen * (1 + c.rangeRatio) + c.outputLen);
  const prefixes = c.groups * c.prefixLen;
  const tokens = c.kv === "tight" ? 1.5 * (prefixes / REPLICAS) + running : prefixes + running;
  return Math.max(Math.ceil(tokens / BLOCK_SIZE), maxModelLen(c) / BLOCK_SIZE + 1);
}

/** Share of prompt tokens an ideal router could serve from cache (for marking cells that round robin thrashes). */
export function shareableFraction(c: Cell): number {
  return c.groups === 0 ? 0 : c.prefixLen / (c.prefixLen + c.suffixLen);
}

/**
 * The traffic classes of one cell and seed: one class per group (its own shared prefix), each with an
 * equal share of the requests, concurrency and rate; one class of unique prompts when nothing is shared.
 * timeScale converts the cell's simulated rate to the client's wall-clock rate.
 */
export function cellClasses(c: Cell, seed: number, timeScale: number): TrafficClass[] {
  const n = Math.max(c.groups, 1);
  return Array.from({ length: n }, (_, g) => ({
    name: c.groups === 0 ? "unique" : `group-${g}`,
    model: "m",
    numPrompts: Math.ceil(c.requests / n),
    inputLen: c.suffixLen,
    outputLen: c.outputLen,
    prefixLen: c.prefixLen,
    rangeRatio: c.rangeRatio,
    requestRate: c.arrival === "burst" ? Number.POSITIVE_INFINITY : (c.rate * timeScale) / n,
    burstiness: 1,
    maxConcurrency: Math.max(1, Math.round(c.concurrency / n)),
    headers: {},
    seed: seed * 1000 + g,
  }));
}
