import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "zeromq";
import {
  type BlockStored,
  decodeKvEventBatch,
  type KvEventBatch,
  readSeqFrame,
  seqFrame,
} from "../../src/kvcache/kv-events.ts";
import { KvEventsSubscriber } from "../../src/kvcache/kv-events-subscriber.ts";
import { externalBlockHash, VllmBlockHasher } from "../../src/kvcache/vllm-block-hash.ts";
import { tokenize } from "../../src/sim/tokenizer.ts";
import { startSimProcess } from "../helpers/sim-process.ts";

const TOPIC = "kv@sim-test";

function simArgs(format: "map" | "array"): string[] {
  const config = {
    enable_kv_cache_events: true,
    endpoint: "tcp://127.0.0.1:*",
    replay_endpoint: "tcp://127.0.0.1:*",
    topic: TOPIC,
    buffer_steps: 1000,
  };
  return [
    "--model",
    "m",
    "--replicas",
    "2",
    "--block-size",
    "16",
    "--num-gpu-blocks-override",
    "16",
    "--max-model-len",
    "256",
    "--hash-seed",
    "7",
    "--kv-events-format",
    format,
    "--kv-events-config",
    JSON.stringify(config),
  ];
}

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(" ");

async function complete(url: string, prompt: string, maxTokens: number): Promise<void> {
  const r = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", prompt, max_tokens: maxTokens, ignore_eos: true }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  await r.json();
}

/** Live batches as [seq, batch], read from a real SUB socket. */
class Collector {
  readonly batches: { seq: bigint; batch: KvEventBatch; payload: Buffer }[] = [];
  private readonly sub = new zmq.Subscriber({ linger: 0 });
  constructor(endpoint: string) {
    this.sub.connect(endpoint);
    this.sub.subscribe(TOPIC);
    void this.loop();
  }
  private async loop(): Promise<void> {
    try {
      for await (const [topic, seq, payload] of this.sub) {
        assert.equal(topic!.toString(), TOPIC);
        this.batches.push({
          seq: readSeqFrame(seq!),
          batch: decodeKvEventBatch(payload!),
          payload: payload!,
        });
      }
    } catch {
      // closed
    }
  }
  /** Waits until pred holds over the events seen so far (5 s). */
  async until(pred: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 250 && !pred(); i++) await sleep(20);
    assert.ok(pred(), `timed out waiting for ${what}`);
  }
  events() {
    return this.batches.flatMap((b) => b.batch.events);
  }
  close() {
    this.sub.close();
  }
}

async function replay(
  endpoint: string,
  from: number,
  withTopic: boolean,
): Promise<{ seq: bigint; payload: Buffer }[]> {
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  dealer.connect(endpoint);
  try {
    await dealer.send(["", seqFrame(from)]);
    const out: { seq: bigint; payload: Buffer }[] = [];
    for (;;) {
      const frames = await dealer.receive();
      assert.equal(frames[0]!.length, 0, "an empty delimiter frame first");
      const rest = frames.slice(1);
      assert.equal(rest.length, withTopic ? 3 : 2, "vLLM's replay reply layout");
      if (withTopic) assert.ok([TOPIC, ""].includes(rest[0]!.toString()));
      const seq = readSeqFrame(rest[withTopic ? 1 : 0]!);
      if (seq === -1n) {
        assert.equal(rest.at(-1)!.length, 0, "the end marker has an empty payload");
        return out;
      }
      if (withTopic) assert.equal(rest[0]!.toString(), TOPIC, "replayed batches carry the topic");
      out.push({ seq, payload: rest.at(-1)! });
    }
  } finally {
    dealer.close();
  }
}

test("igw sim publishes vLLM's KV events: stored blocks, evictions, cache reset, sequence numbers, replay", async (t) => {
  const sim = await startSimProcess(simArgs("map"));
  t.after(() => sim.stop());
  const [kv0, kv1] = sim.kvEvents;
  assert.match(kv0!.endpoint!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.match(kv0!.replay!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(kv0!.endpoint, kv1!.endpoint, "each replica publishes on its own port");
  const c = new Collector(kv0!.endpoint!);
  const other = new Collector(kv1!.endpoint!);
  t.after(() => {
    c.close();
    other.close();
  });
  await sleep(300); // let the subscriptions reach the PUB sockets

  const hasher = new VllmBlockHasher("sha256", "7");
  const promptA = words(40, "a");
  const hashesA = hasher.blockHashes(tokenize(promptA), 16, null, null).map(externalBlockHash);
  await complete(sim.urls[0]!, promptA, 8);
  await c.until(() => c.events().some((e) => e.type === "BlockStored"), "BlockStored");
  const storedA = c.events().filter((e): e is BlockStored => e.type === "BlockStored");
  assert.equal(storedA.length, 1);
  assert.deepEqual(storedA[0]!.blockHashes, hashesA, "the prompt's two full blocks, hashed as vLLM does");
  assert.deepEqual(storedA[0]!.tokenIds, tokenize(promptA).slice(0, 32));
  assert.equal(storedA[0]!.parentBlockHash, null);
  assert.equal(storedA[0]!.blockSize, 16);
  assert.equal(storedA[0]!.medium, "GPU");

  // 240 + 8 tokens need all 16 blocks, so a's cached blocks are evicted.
  await complete(sim.urls[0]!, words(240, "b"), 8);
  const removed = () => c.events().flatMap((e) => (e.type === "BlockRemoved" ? e.blockHashes : []));
  await c.until(() => removed().length >= 2, "BlockRemoved for a's blocks");
  assert.deepEqual(new Set(removed()), new Set(hashesA));

  const reset = await fetch(`${sim.urls[0]}/reset_prefix_cache`, { method: "POST" });
  assert.equal(reset.status, 200);
  await c.until(() => c.events().some((e) => e.type === "AllBlocksCleared"), "AllBlocksCleared");

  const seqs = c.batches.map((b) => b.seq);
  assert.ok(seqs.length >= 4);
  for (let i = 1; i < seqs.length; i++)
    assert.equal(seqs[i], seqs[i - 1]! + 1n, "sequence numbers go up by one");
  for (const b of c.batches) {
    assert.equal(b.batch.dataParallelRank, 0);
    assert.ok(Math.abs(b.batch.ts - Date.now() / 1000) < 60, "ts is wall-clock seconds");
  }

  const replayed = await replay(kv0!.replay!, 0, true);
  assert.deepEqual(
    replayed.map((r) => r.seq),
    Array.from({ length: Number(seqs.at(-1)!) + 1 }, (_, i) => BigInt(i)),
    "replay from 0 returns every batch sent so far",
  );
  for (const live of c.batches)
    assert.ok(
      replayed[Number(live.seq)]!.payload.equals(live.payload),
      `replayed ${live.seq} = live ${live.seq}`,
    );
  const missed = await replay(kv0!.replay!, Number(seqs.at(-1)!), true);
  assert.deepEqual(
    missed.map((r) => r.seq),
    [seqs.at(-1)],
    "a replay from seq n starts at n",
  );
  assert.equal(other.batches.length, 0, "replica 1 served nothing, so it published nothing");

  // A subscriber that joins now gets everything it missed from the replay socket, in order.
  const late: { seq: bigint; batch: KvEventBatch }[] = [];
  const gaps: [bigint, bigint][] = [];
  const sub = new KvEventsSubscriber({
    endpoint: kv0!.endpoint!,
    replayEndpoint: kv0!.replay!,
    topic: TOPIC,
    onBatch: (batch, seq) => late.push({ seq, batch }),
    onGap: (from, to) => gaps.push([from, to]),
  });
  t.after(() => sub.close());
  await sleep(300);
  await complete(sim.urls[0]!, words(40, "c"), 4);
  await c.until(() => late.length > seqs.length, "the late subscriber's catch-up");
  assert.deepEqual(
    late.map((x) => x.seq),
    Array.from({ length: late.length }, (_, i) => BigInt(i)),
  );
  for (const live of c.batches) assert.deepEqual(late[Number(live.seq)]!.batch, live.batch);
  assert.deepEqual(gaps, []);
});

test("--kv-events-format array: positional events and the earlier replay layout", async (t) => {
  const sim = await startSimProcess(simArgs("array"));
  t.after(() => sim.stop());
  const c = new Collector(sim.kvEvents[0]!.endpoint!);
  t.after(() => c.close());
  await sleep(300);
  await complete(sim.urls[0]!, words(20, "z"), 2);
  await c.until(() => c.batches.length > 0, "a batch");
  const { decode } = await import("@msgpack/msgpack");
  const raw = decode(c.batches[0]!.payload) as unknown[];
  assert.ok(Array.isArray(raw) && Array.isArray((raw[1] as unknown[])[0]), "each event is an array");
  assert.equal((raw[1] as unknown[][])[0]![0], "BlockStored");
  const replayed = await replay(sim.kvEvents[0]!.replay!, 0, false);
  assert.ok(replayed[0]!.payload.equals(c.batches[0]!.payload));
});
