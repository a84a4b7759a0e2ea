import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSimArgs } from "../../src/sim/argv.ts";
import { loadSimConfigFile } from "../../src/sim/config-file.ts";
import { resolveSimOptions } from "../../src/sim/index.ts";
import { replicaEndpoint } from "../../src/sim/kv-events-config.ts";
import { engineConfig } from "../../src/sim/options.ts";

test("--kv-events-config takes vLLM's KVEventsConfig JSON with vLLM's defaults", () => {
  const p = parseSimArgs(["--kv-events-config", '{"enable_kv_cache_events": true, "topic": "kv"}']);
  assert.deepEqual(p.values.kvEventsConfig, {
    enable_kv_cache_events: true,
    publisher: "zmq",
    endpoint: "tcp://*:5557",
    replay_endpoint: null,
    buffer_steps: 10_000,
    hwm: 100_000,
    max_queue_size: 100_000,
    topic: "kv",
  });
  const off = parseSimArgs(["--kv-events-config", "{}"]).values.kvEventsConfig!;
  assert.equal(off.publisher, "null", "publisher defaults to null when events are off");
  const o = resolveSimOptions(p.values);
  assert.equal(engineConfig(o, 0).kvEvents, true);
  assert.equal(engineConfig(resolveSimOptions({}), 0).kvEvents, false);
});

test("bad --kv-events-config values name the field", () => {
  const bad: [string, RegExp][] = [
    ["{not json", /--kv-events-config: invalid JSON/],
    ['{"enable_kv_cache_events": "yes"}', /field "enable_kv_cache_events"/],
    ['{"enable_kv_cache_events": true, "publisher": "kafka"}', /field "publisher"/],
    ['{"enable_kv_cache_events": true, "buffer_size": 5}', /buffer_size.*fields: enable_kv_cache_events/s],
    [
      '{"enable_kv_cache_events": true, "endpoint": "http://x:1"}',
      /must start with tcp:\/\/, ipc:\/\/ or inproc:\/\//,
    ],
    ['{"buffer_steps": 0}', /field "buffer_steps"/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseSimArgs(["--kv-events-config", json]), re, json);
});

test("with --replicas each replica offsets the tcp ports by its index; overlaps are an error", () => {
  assert.equal(replicaEndpoint("tcp://*:5557", 0), "tcp://*:5557");
  assert.equal(replicaEndpoint("tcp://*:5557", 3), "tcp://*:5560");
  assert.equal(replicaEndpoint("tcp://127.0.0.1:*", 2), "tcp://127.0.0.1:*");
  assert.equal(replicaEndpoint("tcp://127.0.0.1:0", 2), "tcp://127.0.0.1:0");
  assert.equal(replicaEndpoint("ipc:///tmp/kv", 1), "ipc:///tmp/kv_dp1");
  const cfg = (replay: string) =>
    parseSimArgs([
      "--replicas",
      "3",
      "--kv-events-config",
      JSON.stringify({ enable_kv_cache_events: true, endpoint: "tcp://*:5557", replay_endpoint: replay }),
    ]).values;
  assert.throws(
    () => resolveSimOptions(cfg("tcp://*:5558")),
    /replica 1's endpoint tcp:\/\/\*:5558 is also replica 0's replay_endpoint/,
  );
  assert.doesNotThrow(() => resolveSimOptions(cfg("tcp://*:5560")));
});

test("the YAML config takes kv-events-config as a mapping, and the hash options", () => {
  const dir = mkdtempSync(join(tmpdir(), "igw-sim-kv-"));
  try {
    const file = join(dir, "sim.yaml");
    writeFileSync(
      file,
      "kv-events-config:\n  enable_kv_cache_events: true\n  endpoint: tcp://*:6000\nkv-events-format: array\nprefix-caching-hash-algo: sha256_cbor\nhash-seed: '42'\n",
    );
    const v = loadSimConfigFile(file);
    assert.equal(v.kvEventsConfig!.endpoint, "tcp://*:6000");
    assert.equal(v.kvEventsFormat, "array");
    const c = engineConfig(resolveSimOptions(v), 0);
    assert.equal(c.hashAlgo, "sha256_cbor");
    assert.equal(c.hashSeed, "42");
    writeFileSync(file, "kv-events-config:\n  enable_kv_cache_events: maybe\n");
    assert.throws(() => loadSimConfigFile(file), /sim\.yaml:2?.*enable_kv_cache_events/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
