// The --config-file EndpointPickerConfig with --kube: read at start (invalid → ConfigError, as
// upstream refuses to start), reread when the file changes, and an invalid change never applied.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { ConfigError } from "../../src/config/config-error.ts";
import { PickerConfigFeed } from "../../src/kube/picker-config-feed.ts";
import { captureLogger } from "../helpers/capture-logger.ts";
import { eventually } from "../helpers/eventually.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const config = (scorer: string) => `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: ${scorer}
`;
const pluginsOf = (feed: PickerConfigFeed) =>
  (feed.current()?.doc as { plugins?: { type: string }[] } | undefined)?.plugins?.map((p) => p.type);

test("a --config-file is reread on change; an invalid version is reported and the valid one stays", async () => {
  const t = tempFiles({ "default-plugins.yaml": config("queue-scorer") });
  let changes = 0;
  const feed = new PickerConfigFeed(
    { file: t.path("default-plugins.yaml"), intervalMs: 20 },
    { kubeConfig: new KubeConfig(), logger: captureLogger().logger, onChange: () => changes++ },
  );
  try {
    await feed.start();
    assert.deepEqual(pluginsOf(feed), ["queue-scorer"]);
    writeFileSync(t.path("default-plugins.yaml"), config("kv-cache-utilization-scorer"));
    await eventually(async () => assert.deepEqual(pluginsOf(feed), ["kv-cache-utilization-scorer"]), 2000);
    const before = changes;
    writeFileSync(t.path("default-plugins.yaml"), config("no-such-scorer"));
    await eventually(async () => assert.equal(feed.issues().length, 1), 2000);
    assert.ok(changes > before);
    assert.match(feed.issues()[0]!.reason, /no-such-scorer/);
    assert.deepEqual(pluginsOf(feed), ["kv-cache-utilization-scorer"]);
  } finally {
    await feed.stop();
    t.cleanup();
  }
});

test("a --config-file that is missing or invalid at start is a ConfigError naming the file", async () => {
  const t = tempFiles({ "bad.yaml": config("no-such-scorer") });
  const logger = captureLogger().logger;
  try {
    for (const file of [t.path("bad.yaml"), t.path("missing.yaml")]) {
      const feed = new PickerConfigFeed(
        { file, intervalMs: 20 },
        { kubeConfig: new KubeConfig(), logger, onChange: () => {} },
      );
      await assert.rejects(
        feed.start(),
        (e: unknown) => e instanceof ConfigError && e.message.includes(file),
      );
      await feed.stop();
    }
  } finally {
    t.cleanup();
  }
});
