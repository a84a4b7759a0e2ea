// The Helm chart deploy/helm/inference-gateway: helm lint, and helm template piped to a real
// kube-apiserver (`kubectl apply --dry-run=server`) in both modes; RBAC checked with the server's
// own authorizer (`kubectl auth can-i --as` the chart's ServiceAccount), and igw run with the
// chart's command line and its ServiceAccount's token.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseAllDocuments } from "yaml";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { type KubeEnv, startKubeEnv } from "../helpers/kube-env.ts";
import { REPO_ROOT, testTool } from "../helpers/testenv.ts";

const CHART = join(REPO_ROOT, "deploy", "helm", "inference-gateway");

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  rules?: { resources: string[]; verbs: string[] }[];
}

const EPP_SEED = ["mode=epp", "epp.poolName=qwen-pool", "service.name=qwen-ext-proc"];

describe("Helm chart inference-gateway", { timeout: 240_000 }, () => {
  let kube: KubeEnv;
  before(async () => {
    kube = await startKubeEnv();
  });
  after(() => kube?.stop());

  const template = (release: string, sets: string[]) => {
    const r = kube.tool("helm", [
      "template",
      release,
      CHART,
      "--namespace",
      "default",
      ...sets.flatMap((s) => ["--set", s]),
    ]);
    assert.equal(r.status, 0, r.stderr);
    return {
      text: r.stdout,
      objects: parseAllDocuments(r.stdout)
        .map((d) => d.toJS() as K8sObject)
        .filter(Boolean),
    };
  };
  const find = (objects: K8sObject[], kind: string, name?: string) => {
    const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
    assert.ok(o, `no ${kind} ${name ?? ""}`);
    return o;
  };
  const args = (objects: K8sObject[]) =>
    (find(objects, "Deployment").spec as { template: { spec: { containers: { args: string[] }[] } } })
      .template.spec.containers[0]?.args;
  /** `kubectl auth can-i` as the ServiceAccount; `resource` may end in `/status` (the subresource). */
  const canI = (sa: string, verb: string, resource: string, namespace: string) => {
    const [kind = resource, sub] = resource.split("/");
    const subresource = sub ? [`--subresource=${sub}`] : [];
    const as = `--as=system:serviceaccount:default:${sa}`;
    return kube.kubectl(["auth", "can-i", verb, kind, ...subresource, "-n", namespace, as]).stdout.trim();
  };

  it("passes helm lint in both modes", () => {
    for (const sets of [
      [],
      EPP_SEED,
      ["replicas=2", "kube.watchNamespace=default", "serviceMonitor.enabled=true"],
    ]) {
      const r = kube.tool("helm", ["lint", "--strict", CHART, ...sets.flatMap((s) => ["--set", s])]);
      assert.equal(r.status, 0, `${sets.join(",")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, sets] of [
    ["proxy, defaults", []],
    [
      "proxy, one namespace, gateway class, 2 replicas",
      ["kube.watchNamespace=default", "proxy.gatewayClassName=inference-gateway", "replicas=2"],
    ],
    ["epp for the seed's pool", EPP_SEED],
    ["epp, 3 replicas", [...EPP_SEED, "replicas=3"]],
  ] as const) {
    it(`renders objects the API server accepts (dry-run=server): ${name}`, () => {
      const { text } = template("igw", [...sets]);
      const r = kube.kubectl(["apply", "--dry-run=server", "-f", "-"], text);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /deployment\.apps\/igw-inference-gateway created \(server dry run\)/);
    });
  }

  it("epp mode: the seed's picker Service and upstream's endpoint-picker flags and ports", () => {
    const { objects } = template("igw", EPP_SEED);
    const svc = find(objects, "Service", "qwen-ext-proc").spec as { ports: { name: string; port: number }[] };
    assert.deepEqual(
      svc.ports.map((p) => [p.name, p.port]),
      [
        ["grpc", 9002],
        ["grpc-health", 9003],
        ["metrics", 9090],
      ],
    );
    assert.deepEqual(args(objects), [
      "epp",
      "--kube",
      "--pool-name",
      "qwen-pool",
      "--pool-namespace",
      "default",
      "--grpc-port",
      "9002",
      "--grpc-health-port",
      "9003",
      "--metrics-port",
      "9090",
    ]);
    assert.ok(!objects.some((o) => o.kind === "Role"), "no leader-election Role for one replica");
  });

  it("proxy mode: serve --kube with namespace, gateway class and leader election when replicas > 1", () => {
    const { objects } = template("igw", [
      "kube.watchNamespace=team-a",
      "proxy.gatewayClassName=igw",
      "replicas=2",
    ]);
    assert.deepEqual(args(objects), [
      "serve",
      "--kube",
      "--namespace",
      "team-a",
      "--gateway-class",
      "igw",
      "--leader-elect",
      "--leader-elect-namespace",
      "default",
      "--leader-elect-lease-name",
      "igw-inference-gateway",
      "--leader-elect-lease-duration",
      "15s",
    ]);
    assert.equal(find(objects, "RoleBinding", "igw-inference-gateway").metadata.namespace, "team-a");
    assert.ok(find(objects, "Role", "igw-inference-gateway-leader-election"));
  });

  it("pickerConfig.text: a ConfigMap igw watches (--config-map), readable by the ServiceAccount in the release namespace", () => {
    const file = join(kube.dir, "picker-config.yaml");
    const config =
      "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n- type: queue-scorer\n";
    writeFileSync(file, config);
    const r = kube.tool("helm", [
      ...["template", "pc", CHART, "--namespace", "default", ...EPP_SEED.flatMap((v) => ["--set", v])],
      ...["--set", "kube.watchNamespace=team-a", "--set-file", `pickerConfig.text=${file}`],
    ]);
    assert.equal(r.status, 0, r.stderr);
    const objects = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as K8sObject & { data?: Record<string, string> })
      .filter(Boolean);
    assert.deepEqual(args(objects)?.slice(-4), [
      "--config-map",
      "default/pc-inference-gateway-picker-config",
      "--config-map-key",
      "default-plugins.yaml",
    ]);
    const cm = find(objects, "ConfigMap", "pc-inference-gateway-picker-config") as {
      data?: Record<string, string>;
    };
    assert.equal(cm.data?.["default-plugins.yaml"], config);
    kube.kubectl(["create", "namespace", "team-a"]);
    const applied = kube.kubectl(["apply", "-f", "-"], r.stdout);
    assert.equal(applied.status, 0, applied.stderr);
    const sa = "pc-inference-gateway";
    assert.deepEqual(
      [canI(sa, "watch", "configmaps", "default"), canI(sa, "create", "events", "default")],
      ["yes", "yes"],
    );
    assert.equal(canI(sa, "watch", "configmaps", "kube-system"), "no");
  });

  it("fails to render epp mode without a pool, and an unknown mode", () => {
    const noPool = kube.tool("helm", ["template", "x", CHART, "--set", "mode=epp"]);
    assert.notEqual(noPool.status, 0);
    assert.match(noPool.stderr, /epp mode needs epp\.poolName/);
    const bad = kube.tool("helm", ["template", "x", CHART, "--set", "mode=sidecar"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /mode must be proxy or epp, not "sidecar"/);
  });

  it("renders a ServiceMonitor on the metrics port that prometheus-operator's CRD accepts", async () => {
    const crd = kube.kubectl(["apply", "--server-side", "-f", testTool("servicemonitor-crd", "kube")]);
    assert.equal(crd.status, 0, crd.stderr);
    await kube.waitForCrd("servicemonitors.monitoring.coreos.com");
    for (const sets of [[...EPP_SEED, "serviceMonitor.enabled=true"], ["serviceMonitor.enabled=true"]]) {
      const { text, objects } = template("igw", sets);
      const sm = find(objects, "ServiceMonitor").spec as { endpoints: { port: string; path: string }[] };
      const port = sets.includes("mode=epp") ? "metrics" : "http";
      assert.deepEqual(
        sm.endpoints.map((e) => [e.port, e.path]),
        [[port, "/metrics"]],
      );
      const r = kube.kubectl(["apply", "--dry-run=server", "-f", "-"], text);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        /servicemonitor\.monitoring\.coreos\.com\/igw-inference-gateway created \(server dry run\)/,
      );
    }
  });

  it("grants what each mode needs and no more (the API server's RBAC authorizer decides)", () => {
    const epp = template("epp", EPP_SEED).text;
    const proxy = template("gw", ["kube.watchNamespace=default", "replicas=2"]).text;
    for (const text of [epp, proxy]) {
      const r = kube.kubectl(["apply", "-f", "-"], text);
      assert.equal(r.status, 0, r.stderr);
    }
    const eppSa = "epp-inference-gateway";
    const gwSa = "gw-inference-gateway";
    const table: [string, string, string, string, string][] = [
      [eppSa, "watch", "inferencepools.inference.networking.x-k8s.io", "other", "yes"],
      [eppSa, "patch", "inferencepools.inference.networking.k8s.io/status", "default", "yes"],
      [eppSa, "list", "pods", "kube-system", "yes"],
      [eppSa, "patch", "gateways.gateway.networking.k8s.io/status", "default", "no"],
      [eppSa, "create", "leases.coordination.k8s.io", "default", "no"],
      [eppSa, "delete", "pods", "default", "no"],
      [gwSa, "watch", "httproutes.gateway.networking.k8s.io", "default", "yes"],
      [gwSa, "patch", "httproutes.gateway.networking.k8s.io/status", "default", "yes"],
      [gwSa, "list", "pods", "kube-system", "no"],
      [gwSa, "list", "gatewayclasses.gateway.networking.k8s.io", "default", "yes"],
      [gwSa, "update", "leases.coordination.k8s.io", "default", "yes"],
      [gwSa, "create", "events", "default", "yes"],
      [gwSa, "watch", "backendtrafficpolicies.gateway.envoyproxy.io", "default", "yes"],
    ];
    const wrong = table
      .map(([sa, verb, resource, ns, want]) => [sa, verb, resource, ns, want, canI(sa, verb, resource, ns)])
      .filter(([, , , , want, got]) => want !== got)
      .map((row) => row.join(" "));
    assert.deepEqual(wrong, []);
  });

  it("the chart's proxy command line runs as its ServiceAccount: watches, status, Lease, no 403", async () => {
    const { text, objects } = template("run", ["kube.watchNamespace=default", "replicas=2"]);
    assert.equal(kube.kubectl(["apply", "-f", "-"], text).status, 0);
    assert.equal(kube.kubectl(["apply", "-f", join(REPO_ROOT, "examples", "seed")]).status, 0);
    const token = kube.kubectl(["create", "token", "run-inference-gateway", "-n", "default"]);
    assert.equal(token.status, 0, token.stderr);
    // The admin kubeconfig with the ServiceAccount's token as its user.
    const config = parseAllDocuments(readFileSync(kube.kubeconfig, "utf8"))[0]!.toJS() as {
      users: { name: string; user: Record<string, string> }[];
    };
    config.users = config.users.map((u) => ({ name: u.name, user: { token: token.stdout.trim() } }));
    const file = join(kube.dir, "chart-sa.kubeconfig");
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const gw = await startGatewayProcess([...(args(objects) ?? []).slice(1), "--kubeconfig", file]);
    try {
      const status = () => {
        const r = kube.kubectl([
          "get",
          "gateway",
          "inference-gateway",
          "-o",
          "jsonpath={.status.conditions[0].reason}",
        ]);
        return r.stdout;
      };
      const lease = () =>
        kube.kubectl(["get", "lease", "run-inference-gateway", "-o", "jsonpath={.spec.holderIdentity}"])
          .stdout;
      const deadline = Date.now() + 15_000;
      while ((status() !== "Accepted" || lease() === "") && Date.now() < deadline) await sleep(100);
      assert.equal(status(), "Accepted", gw.stderr());
      assert.notEqual(lease(), "");
      assert.doesNotMatch(gw.stderr(), /forbidden|Forbidden|403|failed/);
    } finally {
      await gw.stop();
    }
  });
});
