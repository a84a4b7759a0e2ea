/**
 * Envoy bootstraps made from the shipped `deploy/envoy/envoy.yaml` (not a second copy): loopback
 * admin and listener on port 0, igw epp's ext_proc and health ports, and the model servers listed
 * in the override-host cluster. Used by `igw demo --data-plane envoy`, bench:envoy and the tests.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** deploy/envoy/envoy.yaml at the package root (this file is src/envoy/ or dist/envoy/). */
export const DEPLOY_ENVOY_YAML = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "deploy",
  "envoy",
  "envoy.yaml",
);

export interface BootstrapSettings {
  readonly extProcPort: number;
  readonly healthPort: number;
  /**
   * The model servers (`host:port`) listed in the override-host cluster, whose retries walk igw's
   * fallback list. Without them the route goes to the ORIGINAL_DST cluster (any address igw names).
   */
  readonly poolEndpoints?: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: a YAML document walked by known names
export type EnvoyDoc = any;

/** The entry of `list` called `name`; throws naming the deploy file when it is missing. */
export function named(list: EnvoyDoc[], name: string): EnvoyDoc {
  const found = list.find((x) => x.name === name);
  if (!found) throw new Error(`deploy/envoy/envoy.yaml has no "${name}"`);
  return found;
}

/** The deploy configuration on loopback, asking the picker at the given ports (a plain object). */
export function envoyBootstrap(s: BootstrapSettings): EnvoyDoc {
  const doc: EnvoyDoc = parse(readFileSync(DEPLOY_ENVOY_YAML, "utf8"));
  doc.admin.address.socket_address = { address: "127.0.0.1", port_value: 0 };
  const listener = named(doc.static_resources.listeners, "inference");
  listener.address.socket_address = { address: "127.0.0.1", port_value: 0 };
  const clusters: EnvoyDoc[] = doc.static_resources.clusters;
  const extProc = named(clusters, "ext_proc");
  const endpoint = extProc.load_assignment.endpoints[0].lb_endpoints[0].endpoint;
  endpoint.address.socket_address = { address: "127.0.0.1", port_value: s.extProcPort };
  endpoint.health_check_config = { port_value: s.healthPort };
  const route =
    listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route;
  if (s.poolEndpoints === undefined) route.cluster = "inference_pool_original_dst";
  else
    named(clusters, "inference_pool").load_assignment.endpoints[0].lb_endpoints = s.poolEndpoints.map((e) => {
      const { hostname, port } = new URL(`http://${e}`);
      return { endpoint: { address: { socket_address: { address: hostname, port_value: Number(port) } } } };
    });
  return doc;
}
