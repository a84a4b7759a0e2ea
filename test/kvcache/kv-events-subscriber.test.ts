import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { KvEventBatch } from "../../src/kvcache/kv-events.ts";
import { KvEventsSubscriber } from "../../src/kvcache/kv-events-subscriber.ts";
import { parseKvEventsConfig } from "../../src/sim/kv-events-config.ts";
import { KvEventsPublisher } from "../../src/sim/kv-events-publisher.ts";

/** A publisher on ephemeral loopback ports keeping `bufferSteps` batches for replay. */
async function publisher(bufferSteps: number, replay: boolean, format: "map" | "array" = "map") {
  const config = parseKvEventsConfig({
    enable_kv_cache_events: true,
    endpoint: "tcp://127.0.0.1:*",
    replay_endpoint: "tcp://127.0.0.1:*",
    buffer_steps: bufferSteps,
    topic: "t",
  });
  return KvEventsPublisher.open(
    config,
    config.endpoint,
    replay ? config.replay_endpoint : null,
    format,
    "127.0.0.1",
  );
}

const batchOf = (n: number) => [
  { type: "BlockRemoved" as const, blockHashes: [BigInt(n)], medium: "GPU", groupIdx: 0 },
];

function collect(pub: KvEventsPublisher, withReplay: boolean) {
  const got: bigint[] = [];
  const removed: bigint[] = [];
  const gaps: [bigint, bigint][] = [];
  const sub = new KvEventsSubscriber({
    endpoint: pub.endpoint,
    replayEndpoint: withReplay ? pub.replayEndpoint : null,
    topic: "t",
    onBatch: (b: KvEventBatch, seq) => {
      got.push(seq);
      for (const e of b.events) if (e.type === "BlockRemoved") removed.push(...e.blockHashes);
    },
    onGap: (from, to) => gaps.push([from, to]),
  });
  return { got, removed, gaps, sub };
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await sleep(20);
  assert.ok(pred(), "timed out");
}

for (const format of ["map", "array"] as const) {
  test(`a late subscriber catches up from replay, and reports what left the buffer (${format} layout)`, async (t) => {
    const pub = await publisher(2, true, format);
    t.after(() => pub.close());
    for (let i = 0; i < 5; i++) pub.publish(batchOf(i)); // seq 0..4
    await sleep(100);
    const c = collect(pub, true);
    t.after(() => c.sub.close());
    await sleep(300);
    pub.publish(batchOf(5));
    // Seq 5 arrives live first; by then the 2-batch buffer holds 4 and 5, so 4 is replayed.
    await until(() => c.got.length >= 2);
    assert.deepEqual(c.got, [4n, 5n]);
    assert.deepEqual(c.removed, [4n, 5n]);
    assert.deepEqual(c.gaps, [[0n, 3n]], "batches 0-3 left the buffer");
    pub.publish(batchOf(6));
    await until(() => c.got.length >= 3);
    assert.deepEqual(c.got, [4n, 5n, 6n], "no gap, no replay");
  });
}

test("without a replay endpoint a gap is reported and delivery goes on", async (t) => {
  const pub = await publisher(10, false);
  t.after(() => pub.close());
  pub.publish(batchOf(0));
  pub.publish(batchOf(1));
  await sleep(100);
  const c = collect(pub, false);
  t.after(() => c.sub.close());
  await sleep(300);
  pub.publish(batchOf(2));
  await until(() => c.got.length >= 1);
  assert.deepEqual(c.got, [2n]);
  assert.deepEqual(c.gaps, [[0n, 1n]]);
});
