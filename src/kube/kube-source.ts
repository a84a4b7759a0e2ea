/**
 * The Kubernetes source: the configuration kinds (`watched-kinds.ts`) and Pods, followed with
 * informers (`kind-watch.ts`). Every change is assembled into a whole update
 * (`cluster-config.ts`: invalid objects left out, the rest applied) with the Pods the pools
 * select as endpoints (`pod-endpoints.ts`). Invalid objects are reported as Kubernetes Events and
 * through `onRejected`; they are never applied. Changes are coalesced for `debounceMs`; when only
 * Pods changed, only the endpoints are recomputed. The EndpointPickerConfig, which is no API kind,
 * comes from a file or a ConfigMap (`picker-config-feed.ts`).
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { ConfigError, type ConfigIssue } from "../config/config-error.ts";
import type { ConfigSource, SourceHandlers, SourceUpdate } from "../config/config-source.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Logger } from "../observability/logger.ts";
import { type ApiObject, type ClusterConfig, clusterConfig, ObjectDecoder } from "./cluster-config.ts";
import { EventRecorder } from "./event-recorder.ts";
import { formatIssueText } from "./issue-text.ts";
import { type BackOff, KindWatch } from "./kind-watch.ts";
import { PickerConfigFeed, type PickerConfigRef } from "./picker-config-feed.ts";
import { type PodLike, podEndpoints } from "./pod-endpoints.ts";
import { apiVersionOf, CONFIG_KINDS, POD_KIND, type WatchedKind } from "./watched-kinds.ts";

export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Watch only this namespace (and cluster-scoped kinds); undefined = every namespace RBAC allows. */
  readonly namespace?: string;
  /** Port of the implicit listener when no Gateway exists. */
  readonly defaultPort: number;
  /** Serve only Gateways of this GatewayClass (`--gateway-class`). */
  readonly gatewayClass?: string;
  readonly logger: Logger;
  /** Changes arriving within this many ms are applied together. Default 20. */
  readonly debounceMs?: number;
  readonly backOff?: BackOff;
  /** Where the EndpointPickerConfig comes from (`--config-file`, `--config-map`); none: defaults. */
  readonly pickerConfig?: PickerConfigRef;
}

/** What the source saw in its latest rebuild (for status writers). */
export interface ClusterView extends ClusterConfig {
  /** The configuration objects as last seen (with their status). */
  readonly objects: readonly ApiObject[];
  /** The GatewayClasses on the server (not part of the configuration). */
  readonly gatewayClasses: readonly ApiObject[];
}

/** The update last emitted, with the signatures of its two halves. */
interface LastUpdate {
  readonly signature: string;
  readonly endpoints: string;
  readonly update: SourceUpdate;
}

/** Reason of the Warning Event on an object that is not applied. */
export const INVALID_REASON = "InvalidConfiguration";
/** Reason of the Warning Event for a finding that did not stop the object (unknown field...). */
const WARNING_REASON = "ConfigurationWarning";

export class KubeSource implements ConfigSource {
  readonly description: string;
  readonly #options: KubeSourceOptions;
  readonly #logger: Logger;
  readonly #watches: KindWatch[];
  readonly #podWatch: KindWatch;
  readonly #classWatch: KindWatch;
  readonly #picker: PickerConfigFeed | undefined;
  readonly #decoder = new ObjectDecoder();
  readonly #events: EventRecorder;
  readonly #viewListeners = new Set<(view: ClusterView) => void>();
  #handlers: SourceHandlers | undefined;
  #loaded = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #last: LastUpdate | undefined;
  /** `uid|message` of the problems already reported. */
  #reported = new Set<string>();
  #ignoredLogged = new Set<string>();
  #view: ClusterView | undefined;
  /** A configuration object changed since the last rebuild (else only Pods did). */
  #configDirty = true;

  constructor(options: KubeSourceOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const { kubeConfig, namespace } = options;
    const server = kubeConfig.getCurrentCluster()?.server ?? "?";
    this.description = `kubernetes ${server}${namespace !== undefined ? ` namespace ${namespace}` : ""}`;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    this.#events = new EventRecorder(core, this.#logger);
    const watchOf = (kind: WatchedKind, list: () => Promise<unknown>) =>
      new KindWatch(
        kubeConfig,
        kind,
        kind.namespaced ? namespace : undefined,
        async () => withKinds(kind, (await list()) as KubernetesListObject<KubernetesObject>),
        {
          onChange: () => this.#changed(kind !== POD_KIND),
          onError: (e, retryInMs, absent) => this.#watchFailed(kind, e, retryInMs, absent),
        },
        options.backOff,
      );
    const customList = (k: WatchedKind) => () =>
      k.namespaced && namespace !== undefined
        ? custom.listNamespacedCustomObject({
            group: k.group,
            version: k.version,
            namespace,
            plural: k.plural,
          })
        : custom.listClusterCustomObject({ group: k.group, version: k.version, plural: k.plural });
    const configKinds = CONFIG_KINDS.filter((k) => k.kind !== "GatewayClass");
    const gatewayClass = CONFIG_KINDS.find((k) => k.kind === "GatewayClass")!;
    this.#watches = configKinds.map((k) => watchOf(k, customList(k)));
    this.#classWatch = watchOf(gatewayClass, customList(gatewayClass));
    this.#podWatch = watchOf(POD_KIND, () =>
      namespace !== undefined ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
    );
    this.#picker = options.pickerConfig
      ? new PickerConfigFeed(options.pickerConfig, {
          kubeConfig,
          logger: this.#logger,
          onChange: () => this.#changed(true),
          ...(options.backOff ? { backOff: options.backOff } : {}),
        })
      : undefined;
  }

  /**
   * Waits until every kind is listed (or known absent), then returns the first update. Throws
   * ConfigError when the `--config-file` EndpointPickerConfig is missing or invalid.
   */
  async load(): Promise<SourceUpdate> {
    await this.#picker?.start();
    const all = [...this.#watches, this.#classWatch, this.#podWatch];
    for (const w of all) w.start();
    await Promise.all(all.map((w) => w.synced()));
    for (const w of all)
      if (w.absent)
        this.#logger.warn(
          { kind: w.kind.kind, apiVersion: apiVersionOf(w.kind) },
          `${w.kind.kind} (${apiVersionOf(w.kind)}) is not served by the API server (CRD not installed?); ` +
            "watching for it",
        );
    this.#loaded = true;
    const { update, rejected } = this.#rebuild();
    if (rejected) this.#logger.error({ issues: rejected.issues }, rejected.message);
    return update;
  }

  watch(handlers: SourceHandlers): void {
    this.#handlers = handlers;
  }

  /** Calls `fn` with every rebuild's view, and at once with the latest one when loaded. */
  onView(fn: (view: ClusterView) => void): () => void {
    this.#viewListeners.add(fn);
    if (this.#view) fn(this.#view);
    return () => this.#viewListeners.delete(fn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.all([...this.#watches, this.#classWatch, this.#podWatch].map((w) => w.stop()));
    await this.#picker?.stop();
  }

  /** A change arrived; `config`: of a configuration kind (else only Pods changed). */
  #changed(config: boolean): void {
    if (config) this.#configDirty = true;
    if (!this.#loaded || this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      const previous = this.#last;
      const { update, rejected } =
        this.#configDirty || !previous ? this.#rebuild() : this.#podsChanged(previous);
      if (rejected) this.#handlers?.onRejected(rejected);
      if (previous?.update !== update) this.#handlers?.onUpdate(update);
    }, this.#options.debounceMs ?? 20);
    this.#timer.unref();
  }

  #watchFailed(kind: WatchedKind, e: Error, retryInMs: number, absent: boolean): void {
    if (this.#closed) return;
    const what = `${kind.kind} (${apiVersionOf(kind)})`;
    if (absent && this.#loaded) return;
    if (!absent)
      this.#logger.warn(
        { kind: kind.kind, err: e.message, retryInMs },
        `watching ${what} failed; retrying in ${retryInMs} ms (the last known objects stay in use)`,
      );
  }

  /** Only Pods changed: the same configuration with the endpoints now (the previous update when they are the same). */
  #podsChanged(previous: LastUpdate): { update: SourceUpdate; rejected: undefined } {
    const endpoints = podEndpoints(this.#podWatch.objects() as PodLike[], previous.update.config);
    const signature = JSON.stringify(endpoints);
    if (signature === previous.endpoints) return { update: previous.update, rejected: undefined };
    this.#last = { ...previous, endpoints: signature, update: { config: previous.update.config, endpoints } };
    return { update: this.#last.update, rejected: undefined };
  }

  #withEndpoints(signature: string, config: ConfigSnapshot): SourceUpdate {
    const endpoints = podEndpoints(this.#podWatch.objects() as PodLike[], config);
    this.#last = { signature, endpoints: JSON.stringify(endpoints), update: { config, endpoints } };
    return this.#last.update;
  }

  /**
   * Assembles the current objects. Returns the new update (the previous object when nothing the
   * gateway uses changed) and, when new problems were found, a ConfigError listing them.
   */
  #rebuild(): { update: SourceUpdate; rejected: ConfigError | undefined } {
    this.#configDirty = false;
    const objects = this.#watches.flatMap((w) => w.objects() as ApiObject[]);
    const pickerConfig = this.#picker?.current();
    const built = clusterConfig(objects, this.#decoder, {
      defaultPort: this.#options.defaultPort,
      ...(this.#options.gatewayClass !== undefined ? { gatewayClass: this.#options.gatewayClass } : {}),
      ...(pickerConfig ? { pickerConfig } : {}),
    });
    const live = new Set(objects.map((o) => o.metadata?.uid ?? ""));
    this.#decoder.retain(live);
    this.#events.retain(live);

    const fresh: ConfigIssue[] = [];
    const freshWarnings: ConfigIssue[] = [];
    const reported = new Set<string>();
    for (const v of built.verdicts) {
      for (const issue of v.errors) {
        const key = `${v.ref.uid}|e|${issue.field}|${issue.reason}`;
        reported.add(key);
        if (!this.#reported.has(key)) fresh.push(issue);
      }
      for (const issue of v.warnings) {
        const key = `${v.ref.uid}|w|${issue.field}|${issue.reason}`;
        reported.add(key);
        if (!this.#reported.has(key)) freshWarnings.push(issue);
      }
      if (v.errors.length > 0)
        this.#events.warn(
          v.ref,
          INVALID_REASON,
          `not applied: ${v.errors.map((i) => formatIssueText(i)).join("; ")}`,
        );
      else if (v.warnings.length > 0)
        this.#events.warn(v.ref, WARNING_REASON, v.warnings.map((i) => formatIssueText(i)).join("; "));
    }
    for (const issue of this.#picker?.issues() ?? []) {
      const key = `picker|${issue.file}|${issue.line}|${issue.field}|${issue.reason}`;
      reported.add(key);
      if (!this.#reported.has(key)) fresh.push(issue);
    }
    this.#reported = reported;
    for (const d of built.ignored) {
      const key = `${d.kind}|${d.name}`;
      if (this.#ignoredLogged.has(key)) continue;
      this.#ignoredLogged.add(key);
      this.#logger.info(
        { kind: d.kind, name: d.name },
        `${d.kind} ${d.name} is not applied by igw (skipped)`,
      );
    }

    const previous = this.#last;
    const update =
      previous && previous.signature === built.signature
        ? this.#podsChanged(previous).update
        : this.#withEndpoints(built.signature, built.config);

    const view: ClusterView = {
      ...built,
      objects,
      gatewayClasses: this.#classWatch.objects() as ApiObject[],
    };
    this.#view = view;
    for (const fn of this.#viewListeners) fn(view);
    return {
      update,
      rejected: fresh.length > 0 ? new ConfigError(fresh, freshWarnings) : undefined,
    };
  }
}

/** Fills in `apiVersion` and `kind`, which list items of built-in kinds omit. */
function withKinds(
  kind: WatchedKind,
  list: KubernetesListObject<KubernetesObject>,
): KubernetesListObject<KubernetesObject> {
  const apiVersion = apiVersionOf(kind);
  for (const item of list.items) {
    item.apiVersion ??= apiVersion;
    item.kind ??= kind.kind;
  }
  return list;
}
