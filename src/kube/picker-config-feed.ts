/**
 * The EndpointPickerConfig of a Kubernetes-fed process, from one of two places, as upstream's
 * chart provides it: a file (`--config-file`, a mounted ConfigMap key; polled, so the kubelet's
 * update of the mount is picked up) or a ConfigMap watched on the API server (`--config-map`;
 * a change applies within the debounce). Each new text is checked whole
 * (`picker-config-document.ts`); an invalid one is reported (a Warning Event on the ConfigMap, and
 * `issues()`) and never applied: the last valid one stays. No ConfigMap, or none yet, means
 * upstream's defaults.
 */
import { readFileSync } from "node:fs";
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type V1ConfigMap,
} from "@kubernetes/client-node";
import { ConfigError, type ConfigIssue } from "../config/config-error.ts";
import type { DecodedObject } from "../config/decode-object.ts";
import { readPickerConfigDocument } from "../config/picker-config-document.ts";
import type { Logger } from "../observability/logger.ts";
import { EventRecorder } from "./event-recorder.ts";
import { formatIssueText } from "./issue-text.ts";
import { type BackOff, KindWatch } from "./kind-watch.ts";
import type { WatchedKind } from "./watched-kinds.ts";

/** Where the EndpointPickerConfig is read from. */
export type PickerConfigRef =
  | { readonly file: string; readonly intervalMs: number }
  | { readonly configMap: { readonly namespace: string; readonly name: string; readonly key: string } };

/** Reason of the Warning Event on a ConfigMap whose EndpointPickerConfig is not applied. */
export const INVALID_PICKER_CONFIG_REASON = "InvalidEndpointPickerConfig";

const CONFIG_MAP_KIND: WatchedKind = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};

export interface PickerConfigFeedDeps {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** The applied document changed, or new issues were found. */
  readonly onChange: () => void;
  readonly backOff?: BackOff;
}

export class PickerConfigFeed {
  readonly #ref: PickerConfigRef;
  readonly #deps: PickerConfigFeedDeps;
  readonly #watch: KindWatch | undefined;
  readonly #events: EventRecorder | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The file's text last checked. */
  #text: string | undefined;
  /** What the ConfigMap held when last checked (absent, no key, or its text). */
  #state: string | undefined;
  #current: DecodedObject | undefined;
  #issues: readonly ConfigIssue[] = [];

  constructor(ref: PickerConfigRef, deps: PickerConfigFeedDeps) {
    this.#ref = ref;
    this.#deps = deps;
    if ("configMap" in ref) {
      const { namespace, name } = ref.configMap;
      const core = deps.kubeConfig.makeApiClient(CoreV1Api);
      const fieldSelector = `metadata.name=${name}`;
      this.#events = new EventRecorder(core, deps.logger);
      this.#watch = new KindWatch(
        deps.kubeConfig,
        CONFIG_MAP_KIND,
        namespace,
        async () =>
          (await core.listNamespacedConfigMap({
            namespace,
            fieldSelector,
          })) as KubernetesListObject<V1ConfigMap>,
        {
          onChange: () => this.#configMapChanged(),
          onError: (e, retryInMs) =>
            deps.logger.warn(
              { configMap: `${namespace}/${name}`, err: e.message, retryInMs },
              "watching the EndpointPickerConfig ConfigMap failed; retrying (the last valid configuration stays)",
            ),
        },
        deps.backOff,
        fieldSelector,
      );
    }
  }

  /** What it reads, for logs. */
  get description(): string {
    const r = this.#ref;
    return "file" in r
      ? r.file
      : `ConfigMap ${r.configMap.namespace}/${r.configMap.name} key ${r.configMap.key}`;
  }

  /**
   * Reads the file, or lists the ConfigMap, and starts following it. A file that is missing or
   * invalid at start throws ConfigError (as upstream fails to start); a ConfigMap never does.
   */
  async start(): Promise<void> {
    const r = this.#ref;
    if ("file" in r) {
      this.#readFile();
      if (this.#issues.length > 0) throw new ConfigError(this.#issues);
      this.#timer = setInterval(() => {
        if (this.#readFile()) this.#deps.onChange();
      }, r.intervalMs);
      this.#timer.unref();
      return;
    }
    this.#watch!.start();
    await this.#watch!.synced();
    this.#configMapChanged(false);
  }

  /** The valid EndpointPickerConfig in use, if any. */
  current(): DecodedObject | undefined {
    return this.#current;
  }

  /** The problems of the latest text (empty when it is applied). */
  issues(): readonly ConfigIssue[] {
    return this.#issues;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#watch?.stop();
  }

  /** Rereads the file; true when its text changed. */
  #readFile(): boolean {
    const { file } = this.#ref as { file: string };
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const reason = `cannot be read: ${(e as Error).message}`;
      if (this.#issues[0]?.reason === reason) return false;
      this.#text = undefined;
      this.#issues = [{ file, line: 0, field: "", object: "", reason }];
      return true;
    }
    if (text === this.#text) return false;
    this.#text = text;
    this.#apply(readPickerConfigDocument(file, text));
    return true;
  }

  #configMapChanged(notify = true): void {
    const { namespace, name, key } = (this.#ref as Extract<PickerConfigRef, { configMap: unknown }>)
      .configMap;
    const cm = this.#watch!.objects()[0] as V1ConfigMap | undefined;
    const text = cm?.data?.[key];
    const state = cm === undefined ? "absent" : text === undefined ? "no key" : `text ${text}`;
    if (state === this.#state) return;
    this.#state = state;
    if (cm === undefined) {
      this.#current = undefined;
      this.#issues = [];
      this.#deps.logger.warn(
        { configMap: `${namespace}/${name}` },
        `ConfigMap ${namespace}/${name} not found: the default picker configuration is used until it exists`,
      );
    } else {
      const where = `ConfigMap ${namespace}/${name} key ${key}`;
      const keys = Object.keys(cm.data ?? {});
      const missing = `is missing (the ConfigMap has ${keys.length > 0 ? keys.join(", ") : "no data keys"})`;
      this.#apply(
        text === undefined
          ? { errors: [{ file: where, line: 0, field: "", object: "", reason: missing }], warnings: [] }
          : readPickerConfigDocument(where, text),
      );
      if (this.#issues.length > 0)
        this.#events!.warn(
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            namespace,
            name,
            uid: cm.metadata?.uid ?? "",
            resourceVersion: cm.metadata?.resourceVersion ?? "",
          },
          INVALID_PICKER_CONFIG_REASON,
          `not applied (the last valid EndpointPickerConfig stays in use): ${this.#issues
            .map((i) => `${i.line > 0 ? `line ${i.line}: ` : ""}${formatIssueText(i)}`)
            .join("; ")}`,
        );
    }
    if (notify) this.#deps.onChange();
  }

  #apply(doc: {
    decoded?: DecodedObject;
    errors: readonly ConfigIssue[];
    warnings: readonly ConfigIssue[];
  }): void {
    this.#issues = doc.errors;
    if (doc.decoded) {
      this.#current = doc.decoded;
      this.#deps.logger.info(
        { source: this.description, warnings: doc.warnings.length },
        "EndpointPickerConfig loaded",
      );
      for (const w of doc.warnings) this.#deps.logger.warn({ source: this.description }, formatIssueText(w));
    }
  }
}
