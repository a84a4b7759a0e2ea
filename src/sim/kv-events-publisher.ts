import * as zmq from "zeromq";
import {
  encodeKvEventBatch,
  type KvCacheEvent,
  type KvEventsFormat,
  REPLAY_END_SEQ,
  readSeqFrame,
  seqFrame,
} from "../kvcache/kv-events.ts";
import type { KvEventsConfig } from "./kv-events-config.ts";

/** vLLM's rule (ZmqEventPublisher._socket_setup): bind wildcard, IPv6-any, ipc and inproc endpoints; connect others. */
function binds(endpoint: string): boolean {
  return (
    endpoint.includes("*") ||
    endpoint.includes("::") ||
    endpoint.startsWith("ipc://") ||
    endpoint.startsWith("inproc://")
  );
}

/** A connectable form of a bound endpoint: wildcard hosts become host (or 127.0.0.1). */
function connectable(endpoint: string, host: string): string {
  const h = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  return endpoint.replace(/^tcp:\/\/(\*|0\.0\.0\.0|\[::\]|::)(?=:)/, `tcp://${h}`);
}

/**
 * One replica's KV-event publisher, as vLLM's ZmqEventPublisher: a PUB socket sending multipart
 * [topic, seq (8-byte big-endian), msgpack KVEventBatch] with seq counting from 0, a replay buffer of
 * the last buffer_steps payloads, and (with replay_endpoint) a ROUTER socket that answers
 * [identity, "", start_seq] with every buffered batch from start_seq on, then an end marker. Replies
 * follow vLLM >= 0.26 ([identity, "", topic, seq, payload], end [identity, "", "", -1, ""]) in the map
 * format and vLLM's earlier layout ([identity, "", seq, payload], end [identity, "", -1, ""]) in the
 * array format. Created by Replica.
 */
export class KvEventsPublisher {
  /** Where subscribers connect (the bound address), or the address connected to. */
  readonly endpoint: string;
  readonly replayEndpoint: string | null;
  /** Batches dropped because more than max_queue_size were waiting to be sent. */
  dropped = 0;
  private readonly pub: zmq.Publisher;
  private readonly router: zmq.Router | null;
  private readonly topic: Buffer;
  private readonly format: KvEventsFormat;
  private readonly bufferSteps: number;
  private readonly maxQueue: number;
  private readonly buffer: { seq: bigint; payload: Buffer }[] = [];
  private readonly queue: Buffer[] = [];
  private nextSeq = 0n;
  private sending = false;
  private closed = false;

  private constructor(
    pub: zmq.Publisher,
    router: zmq.Router | null,
    endpoint: string,
    replayEndpoint: string | null,
    config: KvEventsConfig,
    format: KvEventsFormat,
  ) {
    this.pub = pub;
    this.router = router;
    this.endpoint = endpoint;
    this.replayEndpoint = replayEndpoint;
    this.topic = Buffer.from(config.topic, "utf8");
    this.format = format;
    this.bufferSteps = config.buffer_steps;
    this.maxQueue = config.max_queue_size;
    if (router !== null) void this.serveReplays(router);
  }

  /** Opens the sockets on the given (already replica-offset) endpoints; host names wildcard addresses in `endpoint`. */
  static async open(
    config: KvEventsConfig,
    endpoint: string,
    replayEndpoint: string | null,
    format: KvEventsFormat,
    host: string,
  ): Promise<KvEventsPublisher> {
    const pub = new zmq.Publisher({ sendHighWaterMark: config.hwm, linger: 0 });
    let router: zmq.Router | null = null;
    try {
      let shown = endpoint;
      if (binds(endpoint)) {
        await pub.bind(endpoint);
        shown = connectable(pub.lastEndpoint ?? endpoint, host);
      } else pub.connect(endpoint);
      let replayShown: string | null = null;
      if (replayEndpoint !== null) {
        router = new zmq.Router({ linger: 0 });
        await router.bind(replayEndpoint);
        replayShown = connectable(router.lastEndpoint ?? replayEndpoint, host);
      }
      return new KvEventsPublisher(pub, router, shown, replayShown, config, format);
    } catch (e) {
      pub.close();
      router?.close();
      const what = (e as Error).message;
      throw new Error(
        `kv events: cannot open ${endpoint}${replayEndpoint ? ` / ${replayEndpoint}` : ""}: ${what}`,
      );
    }
  }

  /** Publishes one step's events as a KVEventBatch (ts = now, data_parallel_rank 0); no-op when empty. */
  publish(events: KvCacheEvent[]): void {
    if (this.closed || events.length === 0) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(encodeKvEventBatch({ ts: Date.now() / 1000, events, dataParallelRank: 0 }, this.format));
    if (!this.sending) void this.drain();
  }

  /** Closes both sockets (pending batches are dropped, as vLLM's publisher does on shutdown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.pub.close();
    this.router?.close();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const payload = this.queue.shift()!;
        const seq = this.nextSeq++;
        await this.pub.send([this.topic, seqFrame(seq), payload]);
        this.buffer.push({ seq, payload });
        if (this.buffer.length > this.bufferSteps) this.buffer.shift();
      }
    } catch {
      // the socket closed under us (shutdown)
    } finally {
      this.sending = false;
    }
  }

  private async serveReplays(router: zmq.Router): Promise<void> {
    const withTopic = this.format === "map";
    try {
      for await (const frames of router) {
        if (frames.length !== 3) continue; // vLLM ignores malformed requests
        const [id, , startFrame] = frames as [Buffer, Buffer, Buffer];
        let start: bigint;
        try {
          start = readSeqFrame(startFrame);
        } catch {
          continue;
        }
        for (const { seq, payload } of [...this.buffer]) {
          if (seq < start) continue;
          await router.send(
            withTopic ? [id, "", this.topic, seqFrame(seq), payload] : [id, "", seqFrame(seq), payload],
          );
        }
        await router.send(
          withTopic ? [id, "", "", seqFrame(REPLAY_END_SEQ), ""] : [id, "", seqFrame(REPLAY_END_SEQ), ""],
        );
      }
    } catch {
      // closed
    }
  }
}
