/**
 * The Envoy bootstrap for tests, made from the shipped `deploy/envoy/envoy.yaml` (not a second
 * copy): loopback addresses and port 0 everywhere, igw's ext_proc and health ports, and the few
 * settings a test varies.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy", "envoy", "envoy.yaml");

export interface EnvoyTestSettings {
  readonly extProcPort: number;
  readonly healthPort: number;
  readonly failureModeAllow?: boolean;
  /** BodySendMode names, e.g. "BUFFERED". */
  readonly requestBodyMode?: string;
  readonly responseBodyMode?: string;
  /** e.g. "0.2s". */
  readonly messageTimeout?: string;
  /** Endpoints put in `envoy.lb.subset_hint` by a set_metadata filter ahead of ext_proc. */
  readonly subsetHint?: readonly string[];
  /** TLS to the ext_proc port (accepting a self-signed certificate), health checks plaintext: the commented block of the deploy file. */
  readonly tls?: boolean;
  /** Health-check interval (and no-traffic interval), e.g. "0.5s". */
  readonly healthCheckInterval?: string;
  /**
   * The model servers (`host:port`) listed in the override-host cluster, whose retries walk igw's
   * fallback list. Without them the route goes to the ORIGINAL_DST cluster (any address igw names).
   */
  readonly poolEndpoints?: readonly string[];
  /** igw epp's --destination-endpoint-header, renamed in both clusters (and the subset hint key). */
  readonly destinationHeader?: string;
  /**
   * Routes ahead of the default one for requests whose `x-gateway-model-name` (set by igw, which
   * clears the route cache) is `model`, with this request `timeout` (e.g. "0.3s"): an HTTPRoute
   * rule's timeout as Envoy applies it.
   */
  readonly modelTimeouts?: readonly { model: string; timeout: string }[];
}

// biome-ignore lint/suspicious/noExplicitAny: a YAML document walked by known names
type Doc = any;

function named(list: Doc[], name: string): Doc {
  const found = list.find((x) => x.name === name);
  if (!found) throw new Error(`deploy/envoy/envoy.yaml has no "${name}"`);
  return found;
}

/** The deploy configuration, adapted to a test (a plain object for Envoy's YAML loader). */
export function envoyTestConfig(s: EnvoyTestSettings): Doc {
  const doc: Doc = parse(readFileSync(DEPLOY, "utf8"));
  doc.admin.address.socket_address = { address: "127.0.0.1", port_value: 0 };
  const listener = named(doc.static_resources.listeners, "inference");
  listener.address.socket_address = { address: "127.0.0.1", port_value: 0 };
  const hcm = listener.filter_chains[0].filters[0].typed_config;
  const filters: Doc[] = hcm.http_filters;
  const extProc = named(filters, "envoy.filters.http.ext_proc").typed_config;
  if (s.failureModeAllow !== undefined) extProc.failure_mode_allow = s.failureModeAllow;
  if (s.requestBodyMode) extProc.processing_mode.request_body_mode = s.requestBodyMode;
  if (s.responseBodyMode) extProc.processing_mode.response_body_mode = s.responseBodyMode;
  if (s.messageTimeout) extProc.message_timeout = s.messageTimeout;
  const header = s.destinationHeader ?? "x-gateway-destination-endpoint";
  if (s.subsetHint)
    filters.unshift({
      name: "envoy.filters.http.set_metadata",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config",
        metadata: [
          {
            metadata_namespace: "envoy.lb.subset_hint",
            value: { [`${header}-subset`]: [...s.subsetHint] },
          },
        ],
      },
    });
  poolClusters(doc, hcm, header, s.poolEndpoints);
  const routes: Doc[] = hcm.route_config.virtual_hosts[0].routes;
  const fallbackRoute = routes[routes.length - 1];
  routes.unshift(
    ...(s.modelTimeouts ?? []).map(({ model, timeout }) => ({
      match: {
        prefix: "/",
        headers: [{ name: "x-gateway-model-name", string_match: { exact: model } }],
      },
      route: { ...fallbackRoute.route, timeout },
    })),
  );
  const cluster = named(doc.static_resources.clusters, "ext_proc");
  const endpoint = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint;
  endpoint.address.socket_address = { address: "127.0.0.1", port_value: s.extProcPort };
  endpoint.health_check_config = { port_value: s.healthPort };
  if (s.healthCheckInterval) {
    cluster.health_checks[0].interval = s.healthCheckInterval;
    cluster.health_checks[0].no_traffic_interval = s.healthCheckInterval;
  }
  if (s.tls) {
    cluster.transport_socket_matches = [
      {
        name: "plaintext-health",
        match: { health: "plaintext" },
        transport_socket: {
          name: "envoy.transport_sockets.raw_buffer",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer",
          },
        },
      },
      {
        name: "tls",
        match: {},
        transport_socket: {
          name: "envoy.transport_sockets.tls",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            common_tls_context: { validation_context: {} },
          },
        },
      },
    ];
    cluster.health_checks[0].transport_socket_match_criteria = { health: "plaintext" };
  }
  return doc;
}

/** Points the route at the override-host cluster listing `endpoints`, else at the ORIGINAL_DST one; renames the header. */
function poolClusters(doc: Doc, hcm: Doc, header: string, endpoints: readonly string[] | undefined): void {
  const clusters: Doc[] = doc.static_resources.clusters;
  const listed = named(clusters, "inference_pool");
  const override = listed.load_balancing_policy.policies[0].typed_extension_config.typed_config;
  override.override_host_sources = [{ metadata: { key: "envoy.lb", path: [{ key: header }] } }, { header }];
  named(clusters, "inference_pool_original_dst").original_dst_lb_config.http_header_name = header;
  const route = hcm.route_config.virtual_hosts[0].routes[0].route;
  if (endpoints === undefined) {
    route.cluster = "inference_pool_original_dst";
    return;
  }
  listed.load_assignment.endpoints[0].lb_endpoints = endpoints.map((e) => {
    const { hostname, port } = new URL(`http://${e}`);
    return { endpoint: { address: { socket_address: { address: hostname, port_value: Number(port) } } } };
  });
}
