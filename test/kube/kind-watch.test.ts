// With the API server down (connections accepted and dropped at once), a KindWatch retries with
// growing delays: a handful of attempts in seconds, never a busy loop, never a throw.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { KindWatch } from "../../src/kube/kind-watch.ts";
import { CONFIG_KINDS } from "../../src/kube/watched-kinds.ts";

test("a server that drops every connection gets a few attempts with growing back-off", async () => {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "down", server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "down", user: "u" }],
    currentContext: "c",
  });
  const api = kc.makeApiClient(CustomObjectsApi);
  const kind = CONFIG_KINDS[0]!;
  const delays: number[] = [];
  const watch = new KindWatch(
    kc,
    kind,
    undefined,
    () => api.listClusterCustomObject({ group: kind.group, version: kind.version, plural: kind.plural }),
    { onChange: () => {}, onError: (_e, retryInMs) => delays.push(retryInMs) },
    { initialMs: 200, maxMs: 800 },
  );
  watch.start();
  await sleep(3000);
  await watch.stop();
  const after = connections;
  await sleep(500);
  server.close();
  // 0, 0.2, 0.6, 1.4, 2.2 s (±20 %): about 5 attempts in 3 s; a busy loop would make thousands.
  assert.ok(connections >= 3 && connections <= 7, `${connections} connection attempts in 3 s`);
  assert.equal(connections, after, "attempts after stop()");
  assert.ok(delays.length >= 3, `delays ${delays.join(", ")}`);
  assert.ok(delays[1]! > delays[0]!, `delays grow: ${delays.join(", ")}`);
  assert.ok(
    delays.every((d) => d <= 800 * 1.2),
    `delays capped: ${delays.join(", ")}`,
  );
  assert.deepEqual(watch.objects(), []);
});
