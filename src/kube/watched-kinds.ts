/**
 * The API resources the Kubernetes source watches: every kind the gateway reads from files, plus
 * GatewayClass (for `--gateway-class`) and Pods (the endpoints). One entry names the REST
 * resource (group, version, plural) and whether it lives in a namespace.
 */

export interface WatchedKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The REST resource name, e.g. `inferencepools`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(k: Pick<WatchedKind, "group" | "version">): string {
  return k.group === "" ? k.version : `${k.group}/${k.version}`;
}

/** The collection path, e.g. `/apis/g/v/namespaces/ns/plural` (all namespaces when `namespace` is undefined). */
export function collectionPath(k: WatchedKind, namespace?: string): string {
  const base = k.group === "" ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`;
  return k.namespaced && namespace !== undefined
    ? `${base}/namespaces/${namespace}/${k.plural}`
    : `${base}/${k.plural}`;
}

const X = "inference.networking.x-k8s.io";
const GW = "gateway.networking.k8s.io";

/** Configuration kinds (decoded like manifests). */
export const CONFIG_KINDS: readonly WatchedKind[] = [
  { group: X, version: "v1alpha2", kind: "InferencePool", plural: "inferencepools", namespaced: true },
  {
    group: "inference.networking.k8s.io",
    version: "v1",
    kind: "InferencePool",
    plural: "inferencepools",
    namespaced: true,
  },
  { group: X, version: "v1alpha2", kind: "InferenceModel", plural: "inferencemodels", namespaced: true },
  {
    group: X,
    version: "v1alpha2",
    kind: "InferenceObjective",
    plural: "inferenceobjectives",
    namespaced: true,
  },
  {
    group: X,
    version: "v1alpha2",
    kind: "InferenceModelRewrite",
    plural: "inferencemodelrewrites",
    namespaced: true,
  },
  { group: GW, version: "v1", kind: "HTTPRoute", plural: "httproutes", namespaced: true },
  { group: GW, version: "v1", kind: "Gateway", plural: "gateways", namespaced: true },
  { group: GW, version: "v1", kind: "GatewayClass", plural: "gatewayclasses", namespaced: false },
  {
    group: "gateway.envoyproxy.io",
    version: "v1alpha1",
    kind: "BackendTrafficPolicy",
    plural: "backendtrafficpolicies",
    namespaced: true,
  },
];

export const POD_KIND: WatchedKind = {
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
};
