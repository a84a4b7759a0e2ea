/**
 * Where the gateway's configuration and endpoints come from. A source produces whole, validated
 * updates (a ConfigSnapshot and the endpoint list, applied together with `Datastore.apply`),
 * reports the changes it rejects without touching the running configuration, and can be closed.
 *
 * Implementations: the file source (`file-source.ts`: manifests and the endpoints file, polled)
 * and the Kubernetes source (`kube/kube-source.ts`): it decodes each object as it arrives
 * (`decodeObject({object, origin: {ref}})`), reports an invalid one on that object (Event,
 * condition) and through `onRejected`, and emits an update assembled from the valid objects
 * (`assembleConfig`) whenever one of them, or a Pod, changes.
 */
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { EndpointSpec } from "../datastore/endpoint-spec.ts";
import type { ConfigError } from "./config-error.ts";

/** One whole configuration and the endpoints that go with it; apply both or neither. */
export interface SourceUpdate {
  readonly config: ConfigSnapshot;
  readonly endpoints: readonly EndpointSpec[];
}

/** What a source tells its consumer while it follows changes. Called on the event loop, never concurrently. */
export interface SourceHandlers {
  /** A new whole, validated update (replaces the previous one). */
  onUpdate(update: SourceUpdate): void;
  /**
   * A change that was not applied; the running configuration stays. A ConfigError lists the
   * located problems; any other Error means the change could not be read at all.
   */
  onRejected(error: ConfigError | Error): void;
}

export interface ConfigSource {
  /** Names the source in logs, e.g. `files examples/seed`. */
  readonly description: string;
  /** The first whole configuration. Rejects with ConfigError when it is invalid (the CLI exits 2). */
  load(): Promise<SourceUpdate>;
  /**
   * Starts following changes after `load`. The file source ends each change in exactly one
   * handler call; the Kubernetes source, which applies the valid objects of a change and leaves
   * out the invalid ones, may call `onRejected` (for those) and then `onUpdate` (for the rest).
   */
  watch(handlers: SourceHandlers): void;
  /** Stops following changes; no handler is called after it resolves. */
  close(): Promise<void>;
}
