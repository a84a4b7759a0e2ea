/** `list-queue`: a doubly linked FIFO over the requests' own links; O(1) add, pop and remove. FIFO orderings only. */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { FlowQueue, QueueFactory } from "../policy-types.ts";
import type { QueuedRequest } from "../queued-request.ts";

export class ListQueue implements FlowQueue {
  readonly type = "list-queue";
  readonly flowId: string;
  length = 0;
  bytes = 0;
  private head: QueuedRequest | undefined;
  private tail: QueuedRequest | undefined;

  constructor(flowId: string) {
    this.flowId = flowId;
  }

  add(item: QueuedRequest): void {
    item.prev = this.tail;
    item.next = undefined;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
    item.owner = this;
    this.length++;
    this.bytes += item.request.bytes;
  }

  peek(): QueuedRequest | undefined {
    return this.head;
  }

  pop(): QueuedRequest | undefined {
    const item = this.head;
    if (item) this.unlink(item);
    return item;
  }

  remove(item: QueuedRequest): boolean {
    if (item.owner !== this) return false;
    this.unlink(item);
    return true;
  }

  private unlink(item: QueuedRequest): void {
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = undefined;
    item.next = undefined;
    item.owner = undefined;
    this.length--;
    this.bytes -= item.request.bytes;
  }
}

export const listQueuePlugin = definePlugin({
  type: "list-queue",
  kind: "queue",
  description: "a FIFO list per flow, O(1); holds FIFO orderings only (the default for them)",
  parameters: z.strictObject({}),
  create: (name): QueueFactory => ({
    type: "list-queue",
    name,
    supports: (ordering) => ordering.fifo,
    newQueue: (flowId) => new ListQueue(flowId),
  }),
});
