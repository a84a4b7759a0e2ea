/**
 * The dashboard's event schema: what `/dashboard/events` sends over SSE (`event: <type>`, `data:`
 * one JSON object). A new connection first gets `hello`, then the latest `config`, `pools` and
 * `queues`, and the recent `decisions`; after that `pools`, `queues` and `traffic` once per tick and
 * `config` / `decisions` when they change. Times are ms since the Unix epoch; rates per second over
 * the last tick. The page (assets/dashboard.js) handles every type in DASHBOARD_EVENT_TYPES.
 */

/** One endpoint of a pool, as the gateway sees it now. */
export interface EndpointState {
  /** `host:port`. */
  readonly id: string;
  /** Scraped `num_requests_waiting` and `num_requests_running`. */
  readonly waiting: number;
  readonly running: number;
  /** Scraped KV-cache use, 0..1. */
  readonly kvCacheUsage: number;
  /** Requests the gateway has sent there that have not finished. */
  readonly inFlight: number;
  /** Age of the last successful scrape, ms; null when never scraped. */
  readonly metricsAgeMs: number | null;
  /** Older than the datastore's staleness threshold (load-aware scorers skip it). */
  readonly stale: boolean;
  /** Taken out of scheduling until `until`: `unreachable` after failed connections, `ejected` by outlier detection. */
  readonly ejection: { readonly reason: "unreachable" | "ejected"; readonly until: number } | null;
}

/** One pool: saturation and its endpoints. */
export interface PoolState {
  /** `namespace/name`. */
  readonly pool: string;
  readonly name: string;
  /** Saturation detector: 0 idle, >= 1 full, null when the pool has no flow controller (legacy admission) or no endpoints (Infinity is not JSON). */
  readonly saturation: number | null;
  readonly endpoints: readonly EndpointState[];
}

/** One priority band of a pool's flow controller, with what left it during the last tick. */
export interface BandState {
  readonly priority: number;
  /** "Critical" (> 0), "Standard" (0) or "Sheddable" (< 0). */
  readonly priorityClass: PriorityClass;
  readonly queued: number;
  readonly bytes: number;
  /** Non-empty flows (fairness id, else model name) and their queue lengths. */
  readonly flows: readonly { readonly flow: string; readonly queued: number }[];
  /** Per second over the last tick: let through (at once or after waiting), shed or queue full (429), TTL expired (503). */
  readonly admittedPerS: number;
  readonly shedPerS: number;
  readonly expiredPerS: number;
}

export interface PoolQueues {
  readonly pool: string;
  readonly bands: readonly BandState[];
}

/** Criticality as a class name: priority > 0 Critical, 0 Standard, < 0 Sheddable. */
export type PriorityClass = "Critical" | "Standard" | "Sheddable";

/** One (model, class) over the last tick; latencies null when no request of that kind finished. */
export interface TrafficPoint {
  /** The client's model name ("" for requests refused before a model resolved). */
  readonly model: string;
  readonly priorityClass: PriorityClass;
  /** Requests that ended, and those that failed, per second. */
  readonly requestsPerS: number;
  readonly errorsPerS: number;
  /** Mean and max TTFT of streamed requests (ms), to the first content token. */
  readonly ttftMeanMs: number | null;
  readonly ttftMaxMs: number | null;
  /** Mean time per output token after the first (ms). */
  readonly tpotMeanMs: number | null;
  /** Output tokens per second (engine usage). */
  readonly outputTokensPerS: number;
}

/** One endpoint's scores in a decision: the total and each scorer's (0..1, before weights). */
export interface CandidateScores {
  readonly endpoint: string;
  readonly total: number;
  readonly scores: Readonly<Record<string, number>>;
}

/** A scheduling decision. `candidates` is empty when the gateway builds no explanations. */
export interface DecisionRecord {
  readonly at: number;
  readonly requestId: string;
  readonly pool: string;
  readonly model: string;
  readonly priorityClass: PriorityClass;
  readonly profile: string | null;
  /** Target first, then fallbacks. */
  readonly endpoints: readonly string[];
  /** Scored candidates, best first (what the scheduler reported: the chosen one and the runner-up today). */
  readonly candidates: readonly CandidateScores[];
  /** Candidates removed by filters (or as stale) before scoring. */
  readonly filteredOut: number;
}

/** Configuration as loaded, and its check against the servers. */
export interface ConfigState {
  /** When the running configuration was loaded (start or last accepted reload). */
  readonly loadedAt: number;
  readonly pools: number;
  readonly models: number;
  readonly objectives: number;
  /** The last rejected change, when the last change was rejected (the running configuration stayed). */
  readonly rejected: { readonly at: number; readonly errors: readonly string[] } | null;
  /** Per pool: InferenceModel targets no endpoint serves; `checked` false before the servers answered. */
  readonly servedModels: readonly {
    readonly pool: string;
    readonly checked: boolean;
    readonly unserved: readonly { readonly model: string; readonly target: string }[];
  }[];
}

/** Every event, by `type`. */
export type DashboardEvent =
  | { readonly type: "hello"; readonly at: number; readonly tickMs: number; readonly historyTicks: number }
  | { readonly type: "config"; readonly at: number; readonly config: ConfigState }
  | { readonly type: "pools"; readonly at: number; readonly pools: readonly PoolState[] }
  | { readonly type: "queues"; readonly at: number; readonly pools: readonly PoolQueues[] }
  | { readonly type: "traffic"; readonly at: number; readonly points: readonly TrafficPoint[] }
  | { readonly type: "decisions"; readonly at: number; readonly decisions: readonly DecisionRecord[] };

/** The `type`s, in the order a new connection receives them. */
export const DASHBOARD_EVENT_TYPES = ["hello", "config", "pools", "queues", "traffic", "decisions"] as const;

/** Priority as a class name (the gateway's scale: InferenceModel Critical 1, Standard 0, Sheddable -1). */
export function priorityClass(priority: number | undefined): PriorityClass {
  if (priority === undefined || priority === 0) return "Standard";
  return priority > 0 ? "Critical" : "Sheddable";
}
