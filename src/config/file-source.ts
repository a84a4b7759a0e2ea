/**
 * The file source: manifests (`-f` files and folders) and the standalone endpoints file, read
 * whole and validated on every change. Files are polled (`file-watcher.ts`); a change that does
 * not validate is rejected and the running configuration stays.
 */
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import { type BuildOptions, buildConfig } from "./build-config.ts";
import type { ConfigSource, SourceHandlers, SourceUpdate } from "./config-source.ts";
import { loadEndpointsFile } from "./endpoints-file.ts";
import { pathsSignature, watchPaths } from "./file-watcher.ts";
import { readDocuments } from "./read-documents.ts";

export interface FileSourceOptions extends BuildOptions {
  /** Manifest files or folders (multi-document YAML or JSON). */
  readonly manifests: readonly string[];
  /** The standalone endpoints file; none = no endpoints. */
  readonly endpointsFile?: string;
  /** Poll interval for changes, ms; 0 = never poll (`reload()` still works). Default 1000. */
  readonly watchIntervalMs?: number;
}

/** Reads and validates the manifests at `paths`; throws ConfigError listing every problem. */
export function loadConfig(paths: readonly string[], options: BuildOptions): ConfigSnapshot {
  return buildConfig(readDocuments(paths), options);
}

export class FileSource implements ConfigSource {
  readonly description: string;
  readonly #options: FileSourceOptions;
  readonly #paths: readonly string[];
  #handlers: SourceHandlers | undefined;
  #watcher: { close(): void } | undefined;
  /** The files' signature when they were last read: a change after it is picked up by `watch`. */
  #signature: string | undefined;

  constructor(options: FileSourceOptions) {
    this.#options = options;
    this.#paths = [...options.manifests, ...(options.endpointsFile ? [options.endpointsFile] : [])];
    this.description = `files ${this.#paths.join(" ")}`;
  }

  /** Reads everything now; throws ConfigError when anything is invalid. */
  read(): SourceUpdate {
    this.#signature = pathsSignature(this.#paths);
    const config = loadConfig(this.#options.manifests, this.#options);
    const endpoints = this.#options.endpointsFile ? loadEndpointsFile(this.#options.endpointsFile) : [];
    return { config, endpoints };
  }

  async load(): Promise<SourceUpdate> {
    return this.read();
  }

  watch(handlers: SourceHandlers): void {
    this.#handlers = handlers;
    const interval = this.#options.watchIntervalMs ?? 1000;
    if (interval === 0 || this.#watcher) return;
    this.#watcher = watchPaths(this.#paths, () => this.reload(), interval, this.#signature);
  }

  /**
   * Rereads the files now and calls the handlers (synchronously): true when the change was
   * applied, false when it was rejected. Without `watch` there is no one to tell: returns whether it is valid.
   */
  reload(): boolean {
    let update: SourceUpdate;
    try {
      update = this.read();
    } catch (e) {
      this.#handlers?.onRejected(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
    this.#handlers?.onUpdate(update);
    return true;
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#handlers = undefined;
  }
}
