/**
 * Capabilities a plugin of any kind may have beyond its kind's interface. The gateway finds them
 * with these guards (never by class), so any plugin that implements one takes part.
 */

/** Adds headers to the response of the endpoint that served (session-affinity-scorer's token). */
export interface ProducesResponseHeaders {
  /** Called once per response with the serving endpoint's id (`host:port`); must not throw. */
  responseHeaders(endpointId: string): Readonly<Record<string, string>>;
}

/** Keeps per-endpoint state that must be dropped when an endpoint leaves (prefix-cache-scorer's index). */
export interface EndpointRemovedListener {
  /** The endpoint `host:port` left every pool; called once, after it left. */
  endpointRemoved(endpointId: string): void;
}

/** Holds resources (sockets, timers) to release when its scheduler is replaced or the gateway stops. */
export interface Closeable {
  /** Releases them; called once, after the plugin's last decision. Must not throw. */
  close(): void;
}

/** The approximate prefix index's counters (`inference_extension_prefix_indexer_*`). */
export interface PrefixIndexMetrics {
  /** Block hashes held, over all endpoints. */
  readonly indexSize: number;
  /** Blocks the chosen endpoints already held, and blocks looked up, since the plugin was built. */
  readonly hitBlocks: number;
  readonly lookupBlocks: number;
}

/** What a plugin reports to the scheduler's /metrics families; each field feeds one family. */
export interface PluginMetrics {
  readonly prefixIndex?: PrefixIndexMetrics;
}

/** A plugin whose counters the gateway's /metrics reads at every scrape (cheap, no side effects). */
export interface MetricsSource {
  pluginMetrics(): PluginMetrics;
}

export function producesResponseHeaders<P extends object>(p: P): p is P & ProducesResponseHeaders {
  return typeof (p as Partial<ProducesResponseHeaders>).responseHeaders === "function";
}

export function isEndpointRemovedListener<P extends object>(p: P): p is P & EndpointRemovedListener {
  return typeof (p as Partial<EndpointRemovedListener>).endpointRemoved === "function";
}

export function isMetricsSource<P extends object>(p: P): p is P & MetricsSource {
  return typeof (p as Partial<MetricsSource>).pluginMetrics === "function";
}

export function isCloseable<P extends object>(p: P): p is P & Closeable {
  return typeof (p as Partial<Closeable>).close === "function";
}
