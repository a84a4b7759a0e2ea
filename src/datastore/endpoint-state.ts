/**
 * The datastore's mutable record per endpoint. `metrics` is written by the metrics scraper
 * (modelserver/), `inFlight` by the director (incremented on forward, decremented on end/failure).
 */
import { type EndpointMetrics, emptyMetrics, type InFlight } from "../modelserver/endpoint-metrics.ts";
import type { Endpoint } from "./endpoint.ts";

export interface EndpointState {
  readonly endpoint: Endpoint;
  /** Replace or mutate in place; candidates read it at scheduling time. */
  metrics: EndpointMetrics;
  readonly inFlight: InFlight;
  /** Until when (ms since epoch) the endpoint is skipped after failed connections; 0 = reachable. */
  unreachableUntil: number;
  /** Consecutive failed connections (drives the back-off); reset by a response. */
  connectFailures: number;
  /** The last metrics scrape could not connect (refused, reset, unreachable): not counted as ready. */
  connectRefused: boolean;
  /** Outlier detection (requestcontrol/outlier-detector.ts): consecutive 5xx answers or failed connections. */
  consecutive5xx: number;
  /** Consecutive 502/503/504 answers or failed connections. */
  consecutiveGatewayFailures: number;
  /** Ejected by outlier detection: left out of scheduling until a sweep after `ejectedUntil` returns it. */
  ejected: boolean;
  /** When (ms since epoch) the current ejection's time is up. */
  ejectedUntil: number;
  /** The ejection multiplier: +1 per ejection, -1 per sweep the endpoint spends in service. */
  ejections: number;
}

/** A fresh record: never scraped, nothing in flight. */
export function newEndpointState(endpoint: Endpoint): EndpointState {
  return {
    endpoint,
    metrics: emptyMetrics(),
    inFlight: { requests: 0, tokens: 0, kvTokens: 0 },
    unreachableUntil: 0,
    connectFailures: 0,
    connectRefused: false,
    consecutive5xx: 0,
    consecutiveGatewayFailures: 0,
    ejected: false,
    ejectedUntil: 0,
    ejections: 0,
  };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function endpointId(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
