/**
 * A consumer of one vLLM server's KV-cache events (the other end of `igw sim`'s publisher and of
 * vLLM's ZmqEventPublisher): a ZMQ SUB socket on the PUB endpoint, and, when the server has a replay
 * endpoint, a DEALER socket that fetches batches missed in a sequence gap (or everything buffered
 * before the first live batch). Batches reach onBatch once each, in sequence order. For the
 * gateway's precise prefix index.
 */
import * as zmq from "zeromq";
import { decodeKvEventBatch, type KvEventBatch, readSeqFrame, seqFrame } from "./kv-events.ts";

export interface KvEventsSubscriberOptions {
  /** The server's PUB endpoint, e.g. tcp://10.0.0.5:5557. */
  endpoint: string;
  /** Its replay (ROUTER) endpoint, or null. */
  replayEndpoint?: string | null;
  /** Subscription prefix (vLLM's topic); "" receives everything. */
  topic?: string;
  /** Every batch, in sequence order. */
  onBatch(batch: KvEventBatch, seq: bigint): void;
  /**
   * Batches [from, to] are lost (no replay endpoint, or they left the server's replay buffer); when
   * to < from the publisher restarted (its sequence started over). Either way the consumer's view of
   * the server may be stale.
   */
  onGap?(from: bigint, to: bigint): void;
  /** A message that is not a valid batch (it is skipped). */
  onError?(err: Error): void;
  /** Largest message accepted, bytes (ZMQ_MAXMSGSIZE); default 64 MiB. */
  maxMessageBytes?: number;
  /** How long one replay may wait for the next reply, ms; default 2000. */
  replayTimeoutMs?: number;
}

/** A running subscription; close() stops it. */
export class KvEventsSubscriber {
  /** Sequence number of the last batch delivered; -1 before the first. */
  lastSeq = -1n;
  private readonly sub: zmq.Subscriber;
  private readonly o: KvEventsSubscriberOptions;
  private closed = false;

  constructor(options: KvEventsSubscriberOptions) {
    this.o = options;
    this.sub = new zmq.Subscriber({ linger: 0, maxMessageSize: options.maxMessageBytes ?? 64 << 20 });
    this.sub.connect(options.endpoint);
    this.sub.subscribe(options.topic ?? "");
    void this.loop();
  }

  close(): void {
    this.closed = true;
    this.sub.close();
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.sub) {
        if (this.closed) return;
        if (frames.length !== 3) {
          this.o.onError?.(
            new Error(`kv events: expected [topic, seq, payload], got ${frames.length} frames`),
          );
          continue;
        }
        let seq: bigint;
        try {
          seq = readSeqFrame(frames[1]!);
        } catch (e) {
          this.o.onError?.(e as Error);
          continue;
        }
        if (seq <= this.lastSeq)
          this.o.onGap?.(this.lastSeq + 1n, seq - 1n); // publisher restarted
        else if (seq > this.lastSeq + 1n) await this.fill(this.lastSeq + 1n, seq - 1n);
        this.deliver(seq, frames[2]!);
      }
    } catch (e) {
      if (!this.closed) this.o.onError?.(e as Error);
    }
  }

  private deliver(seq: bigint, payload: Buffer): void {
    this.lastSeq = seq;
    let batch: KvEventBatch;
    try {
      batch = decodeKvEventBatch(payload);
    } catch (e) {
      this.o.onError?.(e as Error);
      return;
    }
    this.o.onBatch(batch, seq);
  }

  /** Replays [from, to] in order; reports what the server no longer has. */
  private async fill(from: bigint, to: bigint): Promise<void> {
    const replayed = this.o.replayEndpoint ? await this.replay(this.o.replayEndpoint, from, to) : [];
    let next = from;
    for (const [seq, payload] of replayed) {
      if (seq < next || seq > to) continue;
      if (seq > next) this.o.onGap?.(next, seq - 1n);
      this.deliver(seq, payload);
      next = seq + 1n;
    }
    if (next <= to) this.o.onGap?.(next, to);
  }

  /** Asks the ROUTER for every batch from `from` on; reads replies until the end marker (either layout). */
  private async replay(endpoint: string, from: bigint, to: bigint): Promise<[bigint, Buffer][]> {
    const dealer = new zmq.Dealer({
      linger: 0,
      receiveTimeout: this.o.replayTimeoutMs ?? 2000,
      maxMessageSize: this.o.maxMessageBytes ?? 64 << 20,
    });
    const out: [bigint, Buffer][] = [];
    try {
      dealer.connect(endpoint);
      await dealer.send(["", seqFrame(from)]);
      for (;;) {
        const frames = await dealer.receive();
        // [""][topic]? seq payload: vLLM >= 0.26 sends the topic, earlier releases do not.
        const rest = frames.slice(frames[0]?.length === 0 ? 1 : 0);
        const seq = readSeqFrame(rest[rest.length - 2]!);
        if (seq < 0n) break;
        out.push([seq, rest[rest.length - 1]!]);
        if (seq >= to) break;
      }
    } catch (e) {
      if (!this.closed)
        this.o.onError?.(new Error(`kv events replay from ${endpoint}: ${(e as Error).message}`));
    } finally {
      dealer.close();
    }
    return out;
  }
}
