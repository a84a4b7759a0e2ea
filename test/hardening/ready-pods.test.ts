/**
 * Finding 8: `inference_pool_ready_pods` counts only endpoints that take connections. An endpoint
 * whose port refuses them (a dead server) is not ready; it counts again once it answers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "undici";
import { deadPort, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { startInProcessGateway } from "../helpers/in-process-gateway.ts";

const POOL = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: p}
spec:
  selector: {app: t}
  targetPortNumber: 8000
`;

async function readyPods(url: string): Promise<number | undefined> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const m = /^inference_pool_ready_pods\{name="p"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

test("an endpoint that refuses connections is not counted in inference_pool_ready_pods", async () => {
  const up = await startFakeUpstream();
  const dead = `127.0.0.1:${await deadPort()}`;
  const h = await startInProcessGateway(POOL, [up.address, dead], { app: "t" }, { dashboard: false });
  try {
    // The first scrape of each endpoint has ended when the gateway starts serving.
    assert.equal(h.gw.datastore.poolEndpoints("default/p").length, 2);
    assert.equal(await readyPods(h.gw.url), 1, "the live endpoint only");
  } finally {
    await h.close();
    await up.close();
  }
});
