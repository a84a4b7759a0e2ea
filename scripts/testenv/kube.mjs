// Kubernetes for tests: kube-apiserver built from the Go module k8s.io/kubernetes (in a wrapper
// module that replaces each k8s.io staging module with its published version), Debian's etcd,
// helm from `go install`, and the CRDs the seed needs besides ours: the Gateway API's (standard
// channel, from sigs.k8s.io/gateway-api) and Envoy Gateway's BackendTrafficPolicy (from
// github.com/envoyproxy/gateway); also prometheus-operator's ServiceMonitor CRD, for the chart's
// test. Binaries are cached by version; a second ensure only checks files.
// Commands: kube-up DIR (start a loopback control plane, write DIR/kubeconfig, install CRDs),
// kube-restart-apiserver DIR [DOWN_MS] and kube-down DIR (stop it and remove its state); see kube-cluster.mjs.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aptInstall } from "./debian.mjs";
import { goBuildWrapped, goInstall, goModuleDir } from "./go.mjs";
import { kubeDown, kubeRestartApiserver, kubeUp } from "./kube-cluster.mjs";
import { output } from "./run.mjs";

/** Kubernetes release; its staging modules (k8s.io/api, ...) are published as v0.<minor>.<patch>. */
const KUBERNETES_VERSION = "v1.34.4";
const STAGING_VERSION = KUBERNETES_VERSION.replace(/^v1\./, "v0.");
const HELM_VERSION = "v3.22.0";
const GATEWAY_API_VERSION = "v1.6.3";
const ENVOY_GATEWAY_VERSION = "v1.9.1";
const BTP_CRD =
  "charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_backendtrafficpolicies.yaml";
const PROMETHEUS_OPERATOR_VERSION = "v0.85.0";
const SERVICEMONITOR_CRD = "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `k8s.io/<name>` modules that k8s.io/kubernetes's go.mod replaces with ./staging folders. */
function stagingModules(kubernetesDir) {
  const gomod = readFileSync(join(kubernetesDir, "go.mod"), "utf8");
  return [...gomod.matchAll(/^\s*(k8s\.io\/[a-z0-9-]+) => \.\/staging\/src\/k8s\.io\/[a-z0-9-]+$/gm)].map(
    (m) => m[1],
  );
}

/** -X flags that give the binary its version, as Kubernetes' own build does (hack/lib/version.sh). */
function versionLdflags() {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split(".");
  const vars = {
    gitVersion: KUBERNETES_VERSION,
    gitMajor: major,
    gitMinor: minor,
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
  };
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((pkg) => Object.entries(vars).map(([k, v]) => `-X ${pkg}.${k}=${v}`))
    .join(" ");
}

/** kube-apiserver (and kubectl when the machine has none), built once per Kubernetes version. */
function ensureKubernetes(root, log) {
  const bin = join(root, `kubernetes-${KUBERNETES_VERSION}`);
  const apiserver = join(bin, "kube-apiserver");
  const systemKubectl = output("sh", ["-c", "command -v kubectl"]);
  const kubectl = systemKubectl ?? join(bin, "kubectl");
  const wanted = [
    ...(existsSync(apiserver) ? [] : ["k8s.io/kubernetes/cmd/kube-apiserver"]),
    ...(existsSync(kubectl) ? [] : ["k8s.io/kubernetes/cmd/kubectl"]),
  ];
  if (wanted.length > 0) {
    log(
      `building ${wanted.join(", ")} ${KUBERNETES_VERSION} (staging modules ${STAGING_VERSION}); takes minutes`,
    );
    const t0 = Date.now();
    const source = goModuleDir("k8s.io/kubernetes", KUBERNETES_VERSION);
    const workDir = join(root, "build", `kubernetes-${KUBERNETES_VERSION}`);
    goBuildWrapped({
      workDir,
      module: "k8s.io/kubernetes",
      version: KUBERNETES_VERSION,
      replaces: Object.fromEntries(stagingModules(source).map((m) => [m, STAGING_VERSION])),
      pkgs: wanted,
      outputs: {
        "k8s.io/kubernetes/cmd/kube-apiserver": apiserver,
        "k8s.io/kubernetes/cmd/kubectl": kubectl,
      },
      ldflags: versionLdflags(),
    });
    rmSync(workDir, { recursive: true, force: true });
    log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return { "kube-apiserver": apiserver, kubectl };
}

/** Copies the YAML files `names` (paths under `from`; all of its *.yaml when omitted) into a new folder `to`. */
function copyCrds(from, to, names) {
  const tmp = `${to}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const name of names ?? readdirSync(from).filter((n) => n.endsWith(".yaml"))) {
    copyFileSync(join(from, name), join(tmp, basename(name)));
  }
  renameSync(tmp, to);
}

async function ensure({ cache, log }) {
  const root = join(cache, "kube");
  mkdirSync(root, { recursive: true });
  aptInstall(["etcd-server"], log);
  const helmDir = join(root, `helm-${HELM_VERSION}`);
  let helm = join(helmDir, "helm");
  if (!existsSync(helm)) {
    log(`go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`);
    helm = goInstall("helm.sh/helm/v3/cmd/helm", HELM_VERSION, helmDir, "helm");
  }
  const crds = join(root, "crds");
  const gatewayApi = join(crds, `gateway-api-${GATEWAY_API_VERSION}`);
  if (!existsSync(gatewayApi)) {
    copyCrds(
      join(goModuleDir("sigs.k8s.io/gateway-api", GATEWAY_API_VERSION), "config", "crd", "standard"),
      gatewayApi,
    );
  }
  const envoyGateway = join(crds, `envoy-gateway-${ENVOY_GATEWAY_VERSION}`);
  if (!existsSync(envoyGateway)) {
    copyCrds(goModuleDir("github.com/envoyproxy/gateway", ENVOY_GATEWAY_VERSION), envoyGateway, [BTP_CRD]);
  }
  // Not installed by kube-up: the chart test applies it to check its optional ServiceMonitor.
  const prometheusOperator = join(crds, `prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}`);
  if (!existsSync(prometheusOperator)) {
    const source = goModuleDir(
      "github.com/prometheus-operator/prometheus-operator",
      PROMETHEUS_OPERATOR_VERSION,
    );
    copyCrds(source, prometheusOperator, [SERVICEMONITOR_CRD]);
  }
  return {
    ...ensureKubernetes(root, log),
    etcd: "/usr/bin/etcd",
    helm,
    "gateway-api-crds": gatewayApi,
    "envoy-gateway-crds": envoyGateway,
    "servicemonitor-crd": join(prometheusOperator, basename(SERVICEMONITOR_CRD)),
  };
}

/** CRD folders kube-up installs: ours (deploy/crds), the Gateway API's, BackendTrafficPolicy. */
function crdDirs(tools) {
  return [join(REPO, "deploy", "crds"), tools["gateway-api-crds"], tools["envoy-gateway-crds"]];
}

export const component = {
  name: "kube",
  description: `kube-apiserver ${KUBERNETES_VERSION} (built from Go modules), etcd (Debian), helm ${HELM_VERSION}, Gateway API ${GATEWAY_API_VERSION} and BackendTrafficPolicy CRDs`,
  suite: true,
  ensure,
  commands: {
    /** kube-up DIR: prints `export KUBECONFIG=DIR/kubeconfig` once the API server is ready. */
    "kube-up": async ([dir], ctx) => {
      if (!dir) throw new Error("usage: npm run testenv -- kube-up DIR");
      const tools = await ensure(ctx);
      const t0 = Date.now();
      const cluster = await kubeUp(dir, tools, { crdDirs: crdDirs(tools), log: ctx.log });
      ctx.log(
        `kube-up done in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs in ${dirname(cluster.logs.etcd)})`,
      );
      console.log(`export KUBECONFIG=${cluster.kubeconfig}`);
    },
    /** kube-restart-apiserver DIR [DOWN_MS]: restarts DIR's API server (etcd and its data stay). */
    "kube-restart-apiserver": async ([dir, downMs]) => {
      if (!dir) throw new Error("usage: npm run testenv -- kube-restart-apiserver DIR [DOWN_MS]");
      const [down, up] = await kubeRestartApiserver(dir, { downMs: Number(downMs ?? 0) });
      console.log(JSON.stringify({ downAt: down, readyAt: up }));
    },
    /** kube-down DIR: stops the control plane of DIR and removes its state. */
    "kube-down": async ([dir]) => {
      if (!dir) throw new Error("usage: npm run testenv -- kube-down DIR");
      await kubeDown(dir);
    },
  },
};
