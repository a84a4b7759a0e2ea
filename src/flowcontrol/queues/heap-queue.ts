/** `heap-queue`: a binary min-heap under the ordering policy; O(log n) add, pop and remove. Any ordering. */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { FlowQueue, OrderingPolicy, QueueFactory } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export class HeapQueue implements FlowQueue {
  readonly type = "heap-queue";
  readonly flowId: string;
  bytes = 0;
  private readonly items: QueuedRequest[] = [];
  private readonly ordering: OrderingPolicy;

  constructor(flowId: string, ordering: OrderingPolicy) {
    this.flowId = flowId;
    this.ordering = ordering;
  }

  get length(): number {
    return this.items.length;
  }

  add(item: QueuedRequest): void {
    item.heapIndex = this.items.length;
    item.owner = this;
    this.items.push(item);
    this.bytes += item.request.bytes;
    this.up(item.heapIndex);
  }

  peek(): QueuedRequest | undefined {
    return this.items[0];
  }

  pop(): QueuedRequest | undefined {
    const top = this.items[0];
    if (top) this.removeAt(0);
    return top;
  }

  remove(item: QueuedRequest): boolean {
    const i = item.heapIndex;
    if (item.owner !== this || this.items[i] !== item) return false;
    this.removeAt(i);
    return true;
  }

  private removeAt(i: number): void {
    const item = this.items[i]!;
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
    item.heapIndex = -1;
    item.owner = undefined;
    this.bytes -= item.request.bytes;
  }

  private less(i: number, j: number): boolean {
    return this.ordering.compare(this.items[i]!, this.items[j]!) < 0;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.less(l, best)) best = l;
      if (r < n && this.less(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}

export const heapQueuePlugin = definePlugin({
  type: "heap-queue",
  kind: "queue",
  description: "a binary heap per flow, O(log n); holds any ordering (the default for non-FIFO ones)",
  parameters: z.strictObject({}),
  create: (name): QueueFactory => ({
    type: "heap-queue",
    name,
    supports: () => true,
    newQueue: (flowId, ordering) => new HeapQueue(flowId, ordering),
  }),
});
