// Our CRDs on a real kube-apiserver: the seed's manifests apply unchanged, the server stores what
// our schemas read, and for a family of valid and invalid objects the API server (with the
// generated CRDs) and the zod schemas the files are read with give the same verdict.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { CRD_SOURCES } from "../../src/api/crd/definitions.ts";
import { toModelRecord } from "../../src/api/inference-model.ts";
import { toPoolRecord } from "../../src/api/inference-pool.ts";
import { type KubeEnv, startKubeEnv } from "../helpers/kube-env.ts";
import { REPO_ROOT } from "../helpers/testenv.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> };

function schemaOf(doc: Doc) {
  const source = CRD_SOURCES.find((s) => `${s.group}/${s.version}` === doc.apiVersion && s.kind === doc.kind);
  assert.ok(source, `no CRD source for ${doc.apiVersion} ${doc.kind}`);
  return source.document;
}

const seedDocs = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(join(REPO_ROOT, "examples", "seed", file), "utf8")).map(
    (d) => d.toJS() as Doc,
  );

const pool1 = (name: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: "inference.networking.k8s.io/v1",
  kind: "InferencePool",
  metadata: { name },
  spec: { selector: { matchLabels: { app: "qwen" } }, targetPorts: [{ number: 8000 }], ...spec },
});
const pool2 = (name: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: "inference.networking.x-k8s.io/v1alpha2",
  kind: "InferencePool",
  metadata: { name },
  spec: {
    selector: { app: "qwen" },
    targetPortNumber: 8000,
    extensionRef: { name: "qwen-ext-proc" },
    ...spec,
  },
});
const model = (name: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: "inference.networking.x-k8s.io/v1alpha2",
  kind: "InferenceModel",
  metadata: { name },
  spec: { modelName: name, poolRef: { name: "qwen-pool" }, ...spec },
});
const objective = (name: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: "inference.networking.x-k8s.io/v1alpha2",
  kind: "InferenceObjective",
  metadata: { name },
  spec: { poolRef: { name: "qwen-pool" }, ...spec },
});
const rewrite = (name: string, rules: unknown): Doc => ({
  apiVersion: "inference.networking.x-k8s.io/v1alpha2",
  kind: "InferenceModelRewrite",
  metadata: { name },
  spec: { poolRef: { name: "qwen-pool" }, rules },
});

/** [object, accepted?, text the server's rejection must contain]. */
const CASES: [Doc, boolean, string?][] = [
  [
    pool1("v1-two-ranks", {
      targetPorts: [{ number: 3000 }, { number: 3002 }],
      appProtocol: "kubernetes.io/h2c",
    }),
    true,
  ],
  [
    pool1("v1-picker", {
      endpointPickerRef: { name: "epp", port: { number: 9002 }, failureMode: "FailOpen" },
    }),
    true,
  ],
  [
    pool1("v1-dup-ports", { targetPorts: [{ number: 8000 }, { number: 8000 }] }),
    false,
    "targetPorts must be unique",
  ],
  [
    pool1("v1-nine-ports", { targetPorts: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ number: 8000 + n })) }),
    false,
    "must have at most 8 items",
  ],
  [pool1("v1-no-labels", { selector: { matchLabels: {} } }), false, "should have at least 1 properties"],
  [pool1("v1-protocol", { appProtocol: "grpc" }), false, "Unsupported value"],
  [pool2("v1alpha2-port-range", { targetPortNumber: 70000 }), false, "should be less than or equal to 65535"],
  [pool2("v1alpha2-empty-selector", { selector: {} }), false, "should have at least 1 properties"],
  [pool2("v1alpha2-label-value", { selector: { app: "a b" } }), false, "should match"],
  [
    pool2("v1alpha2-failure-mode", { extensionRef: { name: "x", failureMode: "Maybe" } }),
    false,
    "Unsupported value",
  ],
  [
    model("weighted", {
      targetModels: [
        { name: "a", weight: 1 },
        { name: "b", weight: 3 },
      ],
    }),
    true,
  ],
  [model("unweighted", { criticality: "Sheddable", targetModels: [{ name: "a" }, { name: "b" }] }), true],
  [
    model("half-weighted", { targetModels: [{ name: "a", weight: 1 }, { name: "b" }] }),
    false,
    "weights must be set on all targetModels or on none",
  ],
  [model("urgent", { criticality: "Urgent" }), false, "Unsupported value"],
  [
    model("eleven", { targetModels: Array.from({ length: 11 }, (_, i) => ({ name: `m${i}` })) }),
    false,
    "must have at most 10 items",
  ],
  [
    model("weight-zero", { targetModels: [{ name: "a", weight: 0 }] }),
    false,
    "should be greater than or equal to 1",
  ],
  [objective("batch", { priority: -5 }), true],
  [objective("wordy", { priority: "high" }), false, "must be of type integer"],
  [objective("no-pool", { poolRef: {} }), false, "Required value"],
  [
    rewrite("canary", [
      { matches: [{ model: { value: "qwen" } }], targets: [{ modelRewrite: "qwen-v2", weight: 10 }] },
    ]),
    true,
  ],
  [rewrite("catch-all", [{ targets: [{ modelRewrite: "qwen" }] }]), true],
  [rewrite("no-targets", [{ targets: [] }]), false, "should have at least 1 items"],
  [
    rewrite("regex-match", [{ matches: [{ model: { type: "RegularExpression", value: "q.*" } }] }]),
    false,
    "Unsupported value",
  ],
];

describe("CRDs on a real kube-apiserver", { timeout: 240_000 }, () => {
  let kube: KubeEnv;
  before(async () => {
    kube = await startKubeEnv();
  });
  after(() => kube?.stop());

  it("the seed's manifests apply unchanged", () => {
    const r = kube.kubectl(["apply", "-f", join(REPO_ROOT, "examples", "seed")]);
    assert.equal(r.status, 0, r.stderr);
    for (const line of [
      "inferencepool.inference.networking.x-k8s.io/qwen-pool created",
      "inferencemodel.inference.networking.x-k8s.io/qwen-model created",
      "inferencemodel.inference.networking.x-k8s.io/travel-helper-model created",
      "httproute.gateway.networking.k8s.io/llm-route created",
      "backendtrafficpolicy.gateway.envoyproxy.io/backend-timeout created",
      "gateway.gateway.networking.k8s.io/inference-gateway created",
    ]) {
      assert.ok(r.stdout.includes(line), `missing "${line}" in:\n${r.stdout}`);
    }
  });

  it("stores the seed's objects so that our schemas read the same records as from the files", () => {
    for (const [file, kind, toRecord] of [
      ["inference-pool.yaml", "InferencePool", toPoolRecord],
      ["inference-pool.yaml", "InferenceModel", toModelRecord],
    ] as const) {
      for (const fromFile of seedDocs(file).filter((d) => d.kind === kind)) {
        const got = kube.kubectl([
          "get",
          `${kind.toLowerCase()}.inference.networking.x-k8s.io/${fromFile.metadata.name}`,
          "-o",
          "json",
        ]);
        assert.equal(got.status, 0, got.stderr);
        const stored = JSON.parse(got.stdout) as Doc & { metadata: { creationTimestamp?: string } };
        const schema = schemaOf(stored);
        // Only what the server adds may differ: the creation time and kubectl's own annotation.
        delete (stored.metadata as { annotations?: Record<string, string> }).annotations?.[LAST_APPLIED];
        const a = toRecord(schema.parse(stored) as never) as { creationTimestamp?: string };
        const b = toRecord(schema.parse(fromFile) as never) as { creationTimestamp?: string };
        assert.ok(a.creationTimestamp, "the server sets creationTimestamp");
        assert.deepEqual({ ...a, creationTimestamp: undefined }, { ...b, creationTimestamp: undefined });
      }
    }
  });

  it("defaults what upstream's CRDs default (failureMode, a Pending status)", () => {
    const got = kube.kubectl(["get", "inferencepool.inference.networking.x-k8s.io/qwen-pool", "-o", "json"]);
    const pool = JSON.parse(got.stdout);
    assert.equal(pool.spec.extensionRef.failureMode, "FailClose");
    assert.equal(pool.status.parent[0].parentRef.kind, "Status");
    assert.equal(pool.status.parent[0].conditions[0].reason, "Pending");
    const models = kube.kubectl([
      "get",
      "inferencemodels",
      "-o",
      "custom-columns=NAME:.metadata.name,GROUP:.spec.poolRef.group",
      "--no-headers",
    ]);
    assert.match(models.stdout, /qwen-model\s+inference\.networking\.x-k8s\.io/);
  });

  it("the server and the zod schemas agree on a family of valid and invalid objects", () => {
    const disagreements: string[] = [];
    for (const [doc, valid, serverText] of CASES) {
      const zodOk = schemaOf(doc).safeParse({
        ...doc,
        metadata: { ...doc.metadata, namespace: "default" },
      }).success;
      const r = kube.kubectl(["apply", "-f", "-"], JSON.stringify(doc));
      const serverOk = r.status === 0;
      const name = `${doc.kind} ${doc.metadata.name}`;
      if (zodOk !== valid) disagreements.push(`${name}: zod ${zodOk ? "accepts" : "rejects"}`);
      if (serverOk !== valid)
        disagreements.push(`${name}: server ${serverOk ? "accepts" : `rejects: ${r.stderr.trim()}`}`);
      if (!valid && serverText && !serverOk && !r.stderr.includes(serverText))
        disagreements.push(`${name}: server's error lacks "${serverText}": ${r.stderr.trim()}`);
    }
    assert.deepEqual(disagreements, []);
  });

  it("keeps modelName immutable, as upstream's CRD does", () => {
    const edited = {
      ...model("weighted", {}),
      spec: { modelName: "renamed", poolRef: { name: "qwen-pool" } },
    };
    const r = kube.kubectl(["apply", "-f", "-"], JSON.stringify(edited));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /modelName is immutable/);
  });

  it("validates status written through the status subresource", () => {
    const condition = (status: string) => ({
      type: "Accepted",
      status,
      reason: "Accepted",
      message: "",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    });
    const patch = (status: string) =>
      kube.kubectl([
        "patch",
        "inferencepool.inference.networking.k8s.io/v1-picker",
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: {
            parents: [
              {
                parentRef: { name: "inference-gateway" },
                controllerName: "example.com/gateway-controller",
                conditions: [condition(status)],
              },
            ],
          },
        }),
      ]);
    const ok = patch("True");
    assert.equal(ok.status, 0, ok.stderr);
    const got = kube.kubectl([
      "get",
      "inferencepool.inference.networking.k8s.io/v1-picker",
      "-o",
      "jsonpath={.status.parents[0].parentRef.kind}/{.status.parents[0].conditions[0].status}",
    ]);
    assert.equal(got.stdout, "Gateway/True");
    const bad = patch("Maybe");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /Unsupported value: "Maybe"/);
  });
});
