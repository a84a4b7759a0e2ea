/**
 * `igw epp --kube` behind a real Envoy, against a real kube-apiserver (one per file): the seed's
 * manifests applied unchanged with kubectl, Pod objects whose status the test sets (no kubelet:
 * podIP on a loopback address where an `igw sim` listens on port 8000), Envoy from the package's
 * bootstrap with the ORIGINAL_DST cluster (the picker names any Pod). Through Envoy: both seed
 * models served; a new InferenceModel served, and an edited criticality applied, within 2 s; an
 * InferenceModelRewrite applied; a deleted or unready Pod gets no new request after 2 s; the
 * EndpointPickerConfig from a watched ConfigMap, an invalid edit reported as an Event and never
 * applied. (Leader election's NOT_SERVING followers: kube-serve.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { envoyTestConfig } from "../helpers/envoy-config.ts";
import { type EnvoyProcess, startEnvoy } from "../helpers/envoy-process.ts";
import { type EppProcess, startEppProcess } from "../helpers/epp-process.ts";
import { type KubeEnv, startKubeEnv } from "../helpers/kube-env.ts";
import {
  assertPodsLeaveAndReturn,
  assertSeedModelsServed,
  complete,
  kubectlOk,
  loopbackPods,
  startSeedPods,
  within,
} from "../helpers/kube-pods.ts";
import type { SimProcess } from "../helpers/sim-process.ts";

const PODS = 3;
const { net: NET, ipOf } = loopbackPods();
const CONFIG_MAP = "qwen-epp-config";

/** An EndpointPickerConfig whose one scorer is named `scorer` (visible in the plugin metrics). */
const pickerConfig = (
  scorer: string,
  type = "queue-scorer",
) => `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- name: ${scorer}
  type: ${type}
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: ${scorer}
  - pluginRef: max-score-picker
`;

describe("igw epp --kube behind Envoy, against a real API server", () => {
  let kube: KubeEnv;
  const sims: SimProcess[] = [];
  let epp: EppProcess;
  let envoy: EnvoyProcess;

  const kubectl = (args: string[], input?: string): string => kubectlOk(kube, args, input);
  const apply = (object: Record<string, unknown>) => kubectl(["apply", "-f", "-"], JSON.stringify(object));
  const applyConfigMap = (text: string) =>
    apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: CONFIG_MAP, namespace: "default" },
      data: { "default-plugins.yaml": text },
    });
  /** The picker's access-log line of request `id` (Envoy passes the client's x-request-id on). */
  const logged = (id: string): { priority: number; targetModel: string } | undefined => {
    for (const line of epp.stderr().split("\n"))
      if (line.includes(`"id":"${id}"`)) return JSON.parse(line) as { priority: number; targetModel: string };
    return undefined;
  };
  const pluginNames = async (): Promise<Set<string>> => {
    const text = await (await fetch(`${epp.metricsUrl}/metrics`)).text();
    return new Set(
      [
        ...text.matchAll(/^inference_extension_plugin_duration_seconds_count\{[^}]*plugin_name="([^"]+)"/gm),
      ].map((m) => m[1]!),
    );
  };

  before(async () => {
    kube = await startKubeEnv();
    await startSeedPods(kube, PODS, ipOf, sims);
    applyConfigMap(pickerConfig("queue-a"));
    epp = await startEppProcess([
      "--kube",
      "--kubeconfig",
      kube.kubeconfig,
      "--pool-name",
      "qwen-pool",
      "--config-map",
      `default/${CONFIG_MAP}`,
      "--access-log",
    ]);
    envoy = await startEnvoy(envoyTestConfig({ extProcPort: epp.grpcPort, healthPort: epp.healthPort }));
  });
  after(async () => {
    await envoy?.stop();
    await epp?.stop();
    await Promise.all(sims.map((s) => s.stop()));
    await kube?.stop();
  });

  test("the seed's two models are served through Envoy on the Pods", async () => {
    await assertSeedModelsServed(envoy.url, NET);
  });

  test("a new InferenceModel is served, and an edited criticality takes effect, within 2 s", async () => {
    const model = (criticality: string) =>
      apply({
        apiVersion: "inference.networking.x-k8s.io/v1alpha2",
        kind: "InferenceModel",
        metadata: { name: "travel-helper-osaka", namespace: "default" },
        spec: {
          modelName: "travel-helper-osaka",
          criticality,
          poolRef: { name: "qwen-pool" },
          targetModels: [{ name: "travel-helper-v2" }],
        },
      });
    assert.equal((await complete(envoy.url, "travel-helper-osaka")).status, 404);
    model("Critical");
    const served = await within(2000, "the new InferenceModel served", async () => {
      return (await complete(envoy.url, "travel-helper-osaka")).status === 200;
    });
    let id = `crit-${Date.now()}`;
    assert.equal((await complete(envoy.url, "travel-helper-osaka", id)).status, 200);
    await within(1000, "access log line", async () => logged(id) !== undefined);
    assert.deepEqual(
      { priority: logged(id)?.priority, target: logged(id)?.targetModel },
      { priority: 1, target: "travel-helper-v2" },
    );
    model("Sheddable");
    let n = 0;
    const edited = await within(2000, "the edited criticality", async () => {
      id = `edit-${n++}-${Date.now()}`;
      if ((await complete(envoy.url, "travel-helper-osaka", id)).status !== 200) return false;
      await within(1000, "access log line", async () => logged(id) !== undefined);
      return logged(id)?.priority === -1;
    });
    console.error(
      `through Envoy: new InferenceModel served after ${served} ms, edit effective after ${edited} ms`,
    );
  });

  test("an InferenceModelRewrite sends a model alias to its target, answers with the alias, and is Accepted", async () => {
    apply({
      apiVersion: "inference.networking.x-k8s.io/v1alpha2",
      kind: "InferenceModelRewrite",
      metadata: { name: "kyoto-alias", namespace: "default" },
      spec: {
        poolRef: { name: "qwen-pool" },
        rules: [
          { matches: [{ model: { value: "kyoto-guide" } }], targets: [{ modelRewrite: "travel-helper-v1" }] },
        ],
      },
    });
    const id = `alias-${Date.now()}`;
    await within(2000, "the rewrite applied", async () => {
      return (await complete(envoy.url, "kyoto-guide")).status === 200;
    });
    const r = await complete(envoy.url, "kyoto-guide", id);
    assert.equal(r.status, 200, r.text);
    assert.equal((JSON.parse(r.text) as { model: string }).model, "kyoto-guide");
    await within(1000, "access log line", async () => logged(id) !== undefined);
    assert.equal(logged(id)?.targetModel, "travel-helper-v1");
    await within(5000, "Accepted on the InferenceModelRewrite", async () => {
      const out = kubectl([
        "get",
        "inferencemodelrewrite",
        "kyoto-alias",
        "-o",
        "jsonpath={.status.conditions[0].status} {.status.conditions[0].reason}",
      ]);
      return out === "True Accepted";
    });
  });

  test("the EndpointPickerConfig comes from the ConfigMap; an invalid edit gets an Event and is not applied", async () => {
    assert.equal((await complete(envoy.url, "qwen")).status, 200);
    assert.ok((await pluginNames()).has("queue-a"), [...(await pluginNames())].join(", "));
    applyConfigMap(pickerConfig("queue-b", "no-such-scorer"));
    await within(5000, "a Warning Event on the ConfigMap", async () => {
      const out = kubectl([
        "get",
        "events",
        "--field-selector",
        `involvedObject.kind=ConfigMap,involvedObject.name=${CONFIG_MAP}`,
        "-o",
        "json",
      ]);
      const items = (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] }).items;
      return items.some(
        (e) =>
          e.type === "Warning" &&
          e.reason === "InvalidEndpointPickerConfig" &&
          /line 5: plugins\[0\]\.type: .*no-such-scorer/.test(e.message),
      );
    });
    await within(2000, "the rejection logged", async () =>
      /"msg":"configuration change rejected[^\n]*default-plugins\.yaml:5: [^\n]*no-such-scorer/.test(
        epp.stderr(),
      ),
    );
    assert.equal((await complete(envoy.url, "qwen")).status, 200);
    assert.ok(!(await pluginNames()).has("queue-b"));
    applyConfigMap(pickerConfig("queue-c"));
    const applied = await within(2000, "the fixed ConfigMap applied", async () => {
      return (await complete(envoy.url, "qwen")).status === 200 && (await pluginNames()).has("queue-c");
    });
    console.error(`EndpointPickerConfig edit in the ConfigMap applied after ${applied} ms`);
  });

  test("an unready Pod and a deleted Pod get no new request 2 s after the change", async () => {
    await assertPodsLeaveAndReturn(kube, envoy.url, ipOf);
  });
});
