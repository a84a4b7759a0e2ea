/**
 * Engine priority: in a pool annotated `engine-priority: "true"` the body sent upstream carries
 * vLLM's integer `priority` (lower = sooner), the negation of the request's gateway priority; in
 * other pools the client's bytes go through unchanged.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config/file-source.ts";
import { Datastore } from "../../src/datastore/datastore.ts";
import { Director } from "../../src/requestcontrol/director.ts";
import { upstreamBody, vllmPriority } from "../../src/requestcontrol/engine-priority.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const POOL = (name: string, annotations: string) => `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: ${name}, annotations: {${annotations}}}
spec:
  selector: {app: ${name}}
  targetPortNumber: 8000
`;
const MODEL = (name: string, pool: string, criticality: string, target?: string) => `---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: ${name}-${pool}}
spec:
  modelName: ${name}
  criticality: ${criticality}
  poolRef: {name: ${pool}}
${target ? `  targetModels: [{name: ${target}}]\n` : ""}`;

const MANIFESTS = `${POOL("prio", '"inference-epp-env.networking.x-k8s.io/engine-priority": "true"')}${MODEL("chat", "prio", "Critical", "chat-v1")}${MODEL("bulk", "prio", "Standard")}${MODEL("spare", "prio", "Sheddable")}---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: urgent}
spec:
  priority: 7
  poolRef: {name: prio}
---
${POOL("fcfs", "")}${MODEL("plain", "fcfs", "Critical")}`;

const files = tempFiles({ "m.yaml": MANIFESTS });
after(() => files.cleanup());

function director(): Director {
  const datastore = new Datastore(loadConfig([files.path("m.yaml")], { defaultPort: 8081 }));
  datastore.apply(datastore.config, [
    { host: "10.0.0.1", labels: { app: "prio" } },
    { host: "10.0.0.2", labels: { app: "fcfs" } },
  ]);
  return new Director(datastore, { now: () => 1000, random: () => 0 });
}

async function upstream(d: Director, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const pool = body["model"] === "plain" ? "default/fcfs" : "default/prio";
  const ex = d.begin(
    { method: "POST", url: "/v1/completions", headers: { "x-request-id": "r1", ...headers } },
    { kind: "pool", poolKey: pool },
  );
  const raw = Buffer.from(JSON.stringify(body));
  const decision = await ex.decide(raw);
  ex.end();
  return { decision, sent: JSON.parse(decision.body.toString()) as Record<string, unknown>, raw };
}

test("vLLM's priority is the negated gateway priority: Critical -1, Standard 0, Sheddable 1, objective N → -N", () => {
  assert.deepEqual([1, 0, -1, 7, -5].map(vllmPriority), [-1, 0, 1, -7, 5]);
  assert.ok(Object.is(vllmPriority(0), 0), "Standard is 0, not -0");
});

test("in an engine-priority pool every request carries priority by its criticality, next to the model rewrite", async () => {
  const d = director();
  const critical = await upstream(d, { model: "chat", prompt: "hi", max_tokens: 3 });
  assert.deepEqual(critical.sent, { model: "chat-v1", prompt: "hi", max_tokens: 3, priority: -1 });
  assert.equal(critical.decision.bodyRewritten, true);
  const standard = await upstream(d, { model: "bulk", prompt: "hi" });
  assert.equal(standard.sent["priority"], 0);
  assert.equal(standard.sent["model"], "bulk");
  const sheddable = await upstream(d, { model: "spare", prompt: "hi" });
  assert.equal(sheddable.sent["priority"], 1);
});

test("an InferenceObjective's priority decides the field; a client's own priority is replaced", async () => {
  const d = director();
  const objective = await upstream(
    d,
    { model: "bulk", prompt: "hi", priority: -100 },
    { "x-gateway-inference-objective": "urgent" },
  );
  assert.equal(objective.sent["priority"], -7);
  const client = await upstream(d, { model: "bulk", prompt: "hi", priority: -100 });
  assert.equal(client.sent["priority"], 0, "a Standard client cannot jump the engine's queue");
});

test("a pool without the annotation gets the client's bytes unchanged, priority field and all", async () => {
  const d = director();
  const plain = await upstream(d, { model: "plain", prompt: "hi", priority: 3 });
  assert.equal(plain.decision.bodyRewritten, false);
  assert.equal(plain.decision.body.toString(), plain.raw.toString());
});

test("upstreamBody keeps the received bytes when the field is already what the gateway would set", () => {
  const rawBody = Buffer.from('{"model":"m","priority":0}');
  const out = upstreamBody({ rawBody, modelSpan: undefined }, "m", "m", 0);
  assert.equal(out.rewritten, false);
  assert.equal(out.body, rawBody);
});
