/**
 * The request's preparation on the real path: the exchange runs the pool scheduler's request
 * preparers (here the scorer profile's prefix scorer) once per request, before admission, and a
 * retry's fresh decision does not prepare it again.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import { PrefixCacheScorer } from "../../src/scheduling/plugins/scorers/prefix-cache-scorer.ts";
import type { SchedulingRequest } from "../../src/scheduling/types.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: p
  annotations: {inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"}
spec:
  selector: {app: t}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec:
  modelName: chat
  criticality: Critical
  poolRef: {name: p}
`;

const files = tempFiles({ "m.yaml": MANIFESTS });
after(() => files.cleanup());

test("the exchange prepares each request once, before admission; a retry's decision reuses it", async () => {
  const datastore = new Datastore(loadConfig([files.path("m.yaml")], { defaultPort: 8081 }));
  datastore.apply(datastore.config, [
    { host: "10.0.0.1", labels: { app: "t" } },
    { host: "10.0.0.2", labels: { app: "t" } },
    { host: "10.0.0.3", labels: { app: "t" } },
    { host: "10.0.0.4", labels: { app: "t" } },
  ]);
  const director = new Director(datastore, { now: () => 1000, random: () => 0, maxAttempts: 4 });
  const events: string[] = [];
  director.hooks.on("admitted", (v) => events.push(`admitted ${v.id}`));
  const prepared: SchedulingRequest[] = [];
  const original = PrefixCacheScorer.prototype.prepareRequest;
  PrefixCacheScorer.prototype.prepareRequest = function (this: PrefixCacheScorer, r: SchedulingRequest) {
    prepared.push(r);
    events.push(`prepared ${r.requestId}`);
    original.call(this, r);
  };
  try {
    for (const id of ["a", "b"]) {
      const ex = director.begin(
        { method: "POST", url: "/v1/completions", headers: { "x-request-id": id } },
        { kind: "listeners", listenerKeys: ["*"] },
      );
      const d = await ex.decide(Buffer.from(JSON.stringify({ model: "chat", prompt: `hello ${id}` })));
      // Every scheduled endpoint fails: the retries reach a fresh decision over the rest.
      let next: string | undefined = d.endpoints[0];
      let attempts = 0;
      while (next !== undefined) {
        ex.attempt(next);
        attempts++;
        next = ex.attemptFailed({ kind: "connect", reason: "ECONNREFUSED" });
      }
      assert.equal(attempts, 4, "the fallbacks and one fresh decision were tried");
      ex.end();
    }
  } finally {
    PrefixCacheScorer.prototype.prepareRequest = original;
  }
  assert.deepEqual(events, ["prepared a", "admitted a", "prepared b", "admitted b"]);
  assert.deepEqual(
    prepared.map((r) => r.prefixText),
    ["hello a", "hello b"],
  );
});
