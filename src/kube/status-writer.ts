/**
 * Writes the status `desired-status.ts` computes from each view of the cluster, while this
 * replica is the leader (`setLeader`; true unless leader election says otherwise). A status equal
 * to the object's current one is not written, so a write (which comes back as a watch event and a
 * new view) settles at once. Writes are JSON merge patches of the status subresource carrying the
 * resourceVersion they were computed from: a conflict means a newer object is on its way, and
 * the view it brings is written instead. Failures are logged and retried; never thrown.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import { desiredStatuses, type StatusWrite } from "./desired-status.ts";
import { httpStatusOf } from "./kind-watch.ts";
import type { ClusterView } from "./kube-source.ts";
import { CONFIG_KINDS } from "./watched-kinds.ts";

export interface StatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** `--gateway-class`: report on the Gateways of this class only. */
  readonly gatewayClass?: string;
  /** Report on Gateways, HTTPRoutes and pool parents too (the proxy); false for the endpoint picker. */
  readonly gatewayStatus: boolean;
  /** Retry after a failed write this much later, ms. Default 5000. */
  readonly retryMs?: number;
}

/** JSON with object keys sorted, so that two equal statuses compare equal whatever their key order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** RFC 3339 in UTC, seconds precision (metav1.Time). */
const nowRfc3339 = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export class StatusWriter {
  readonly #api: CustomObjectsApi;
  readonly #options: StatusWriterOptions;
  #view: ClusterView | undefined;
  #leader = true;
  #writing = false;
  #again = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  /** Writes done (for tests and logs). */
  written = 0;

  constructor(options: StatusWriterOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** A new view of the cluster: write what changed (if leader). */
  update(view: ClusterView): void {
    this.#view = view;
    this.#kick();
  }

  /** Leader election's verdict; becoming leader writes the current view. */
  setLeader(leader: boolean): void {
    this.#leader = leader;
    if (leader) this.#kick();
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
  }

  #kick(): void {
    if (this.#closed || !this.#leader || !this.#view) return;
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = true;
    void this.#flush().finally(() => {
      this.#writing = false;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  async #flush(): Promise<void> {
    const view = this.#view!;
    const writes = desiredStatuses({
      config: view.config,
      verdicts: view.verdicts,
      objects: view.objects,
      gatewayStatus: this.#options.gatewayStatus,
      now: nowRfc3339(),
      ...(this.#options.gatewayClass !== undefined ? { gatewayClass: this.#options.gatewayClass } : {}),
    });
    const current = new Map(
      view.objects.map((o) => [
        `${o.apiVersion}|${o.kind}|${o.metadata?.namespace}/${o.metadata?.name}`,
        (o as { status?: unknown }).status,
      ]),
    );
    let failed = false;
    for (const w of writes) {
      if (this.#closed || !this.#leader) return;
      const now = current.get(`${w.apiVersion}|${w.kind}|${w.namespace}/${w.name}`);
      if (stableJson(now ?? {}) === stableJson(w.status)) continue;
      if (!(await this.#write(w))) failed = true;
    }
    if (failed && !this.#retry && !this.#closed) {
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, this.#options.retryMs ?? 5000);
      this.#retry.unref();
    }
  }

  /** One merge patch of the status subresource; false when it should be retried. */
  async #write(w: StatusWrite): Promise<boolean> {
    const kind = CONFIG_KINDS.find((k) => `${k.group}/${k.version}` === w.apiVersion && k.kind === w.kind);
    if (!kind) return true;
    try {
      await this.#api.patchNamespacedCustomObjectStatus(
        {
          group: kind.group,
          version: kind.version,
          namespace: w.namespace,
          plural: kind.plural,
          name: w.name,
          body: { metadata: { resourceVersion: w.resourceVersion }, status: w.status },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      this.written++;
      return true;
    } catch (e) {
      const status = httpStatusOf(e);
      // 409: changed meanwhile (its watch event brings a new view); 404: deleted.
      if (status === 409 || status === 404) return true;
      this.#options.logger.warn(
        { err: e instanceof Error ? e.message : String(e), object: `${w.kind} ${w.namespace}/${w.name}` },
        "could not write status; retrying",
      );
      return false;
    }
  }
}
