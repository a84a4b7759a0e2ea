/**
 * One priority band: the flows of one priority, each in its own FlowQueue, and the band's fairness
 * policy choosing which flow's head goes next. Empty flows are dropped at once.
 */
import { BUILTIN_REGISTRY } from "../plugins/builtin-registry.ts";
import { type BandSettings, DEFAULT_PRIORITY_USAGE_LIMIT, DEFAULT_USAGE_LIMIT } from "./config.ts";
import type { BandFlows, FairnessPolicy, FlowQueue, OrderingPolicy, QueueFactory } from "./policy-types.ts";
import type { QueuedRequest } from "./queued-request.ts";

export class PriorityBand implements BandFlows {
  readonly priority: number;
  readonly settings: BandSettings;
  readonly ordering: OrderingPolicy;
  /** Sorted ids of the non-empty flows. */
  readonly ids: string[] = [];
  /** Saturation at which the band stops dispatching (before any active reserve). */
  readonly usageLimit: number;
  /** Requests and body bytes held by the band. */
  size = 0;
  bytes = 0;
  /** Clock time (ms) of the band's last dispatch; -Infinity = never. */
  lastDispatchAt = Number.NEGATIVE_INFINITY;
  /** Clock time (ms) a request of this band last completed; -Infinity = never. */
  lastCompletionAt = Number.NEGATIVE_INFINITY;
  /** Clock time (ms) since which higher bands' activity holds this band back; undefined = not held. */
  heldSince: number | undefined = undefined;
  private readonly fairness: FairnessPolicy;
  private readonly queues: QueueFactory;
  private readonly flows = new Map<string, FlowQueue>();

  /**
   * `settings` were resolved by parseFlowControl, so its plugins build. `priorityLimit`: the
   * usage limit of a band with priority > 0 that sets none (DEFAULT_PRIORITY_USAGE_LIMIT).
   */
  constructor(priority: number, settings: BandSettings, priorityLimit = DEFAULT_PRIORITY_USAGE_LIMIT) {
    this.priority = priority;
    this.settings = settings;
    this.usageLimit = settings.usageLimit ?? (priority > 0 ? priorityLimit : DEFAULT_USAGE_LIMIT);
    this.ordering = BUILTIN_REGISTRY.create(settings.orderingPolicy, "ordering-policy", "ordering policy");
    this.fairness = BUILTIN_REGISTRY.create(settings.fairnessPolicy, "fairness-policy", "fairness policy");
    this.queues = BUILTIN_REGISTRY.create(settings.queue, "queue", "queue");
  }

  /** The queue of a non-empty flow (BandFlows contract: only ids listed in `ids`). */
  queue(flowId: string): FlowQueue {
    return this.flows.get(flowId)!;
  }

  /** Per-flow counts, for metrics and stats. */
  flowSizes(): { flowId: string; size: number; bytes: number }[] {
    return this.ids.map((id) => {
      const q = this.flows.get(id)!;
      return { flowId: id, size: q.length, bytes: q.bytes };
    });
  }

  add(item: QueuedRequest): void {
    const flowId = item.request.flowId;
    let q = this.flows.get(flowId);
    if (!q) {
      q = this.queues.newQueue(flowId, this.ordering);
      this.flows.set(flowId, q);
      this.ids.splice(lowerBound(this.ids, flowId), 0, flowId);
    }
    q.add(item);
    this.size++;
    this.bytes += item.request.bytes;
  }

  /** Removes a specific item (disconnect, expiry); false when it is not in this band. */
  remove(item: QueuedRequest): boolean {
    const q = this.flows.get(item.request.flowId);
    if (!q?.remove(item)) return false;
    this.taken(q, item);
    return true;
  }

  /** Removes and returns the next item by fairness across flows, then ordering within the flow. */
  popNext(): QueuedRequest | undefined {
    const q = this.fairness.pick(this);
    const item = q?.pop();
    if (q && item) this.taken(q, item);
    return item;
  }

  private taken(q: FlowQueue, item: QueuedRequest): void {
    this.size--;
    this.bytes -= item.request.bytes;
    if (q.length === 0) {
      this.flows.delete(q.flowId);
      this.ids.splice(lowerBound(this.ids, q.flowId), 1);
    }
  }
}

/** First index whose id is >= key. */
function lowerBound(ids: readonly string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
