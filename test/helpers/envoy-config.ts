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
  if (s.subsetHint)
    filters.unshift({
      name: "envoy.filters.http.set_metadata",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config",
        metadata: [
          {
            metadata_namespace: "envoy.lb.subset_hint",
            value: { "x-gateway-destination-endpoint-subset": [...s.subsetHint] },
          },
        ],
      },
    });
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
