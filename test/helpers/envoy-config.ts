/**
 * The Envoy bootstrap for tests: the package's (src/envoy/envoy-bootstrap.ts, made from the shipped
 * `deploy/envoy/envoy.yaml`) with the few settings a test varies.
 */
import {
  type BootstrapSettings,
  type EnvoyDoc as Doc,
  envoyBootstrap,
  named,
} from "../../src/envoy/envoy-bootstrap.ts";

export interface EnvoyTestSettings extends BootstrapSettings {
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
  /** igw epp's --destination-endpoint-header, renamed in both clusters (and the subset hint key). */
  readonly destinationHeader?: string;
  /**
   * Routes ahead of the default one for requests whose `x-gateway-model-name` (set by igw, which
   * clears the route cache) is `model`, with this request `timeout` (e.g. "0.3s"): an HTTPRoute
   * rule's timeout as Envoy applies it.
   */
  readonly modelTimeouts?: readonly { model: string; timeout: string }[];
}

/** The deploy configuration, adapted to a test (a plain object for Envoy's YAML loader). */
export function envoyTestConfig(s: EnvoyTestSettings): Doc {
  const doc: Doc = envoyBootstrap(s);
  const listener = named(doc.static_resources.listeners, "inference");
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
  renameHeader(doc, header);
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

/** igw epp's --destination-endpoint-header, in both clusters. */
function renameHeader(doc: Doc, header: string): void {
  const clusters: Doc[] = doc.static_resources.clusters;
  const override = named(clusters, "inference_pool").load_balancing_policy.policies[0].typed_extension_config
    .typed_config;
  override.override_host_sources = [{ metadata: { key: "envoy.lb", path: [{ key: header }] } }, { header }];
  named(clusters, "inference_pool_original_dst").original_dst_lb_config.http_header_name = header;
}
