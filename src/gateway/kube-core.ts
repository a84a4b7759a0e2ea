/**
 * What every Kubernetes-fed process (`igw serve --kube`, `igw epp --kube`) shares: its options,
 * the source, and the status side — a StatusWriter fed by the source's views and, with leader
 * election, a Lease that makes one replica the writer (and tells the process, e.g. for health).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeSource } from "../kube/kube-source.ts";
import { LeaderElection } from "../kube/leader-election.ts";
import type { PickerConfigRef } from "../kube/picker-config-feed.ts";
import { StatusWriter } from "../kube/status-writer.ts";
import type { Logger } from "../observability/logger.ts";

export interface KubeCoreOptions {
  readonly kubeConfig: KubeConfig;
  /** Watch only this namespace. */
  readonly namespace?: string;
  /** Serve (and report on) only the Gateways of this GatewayClass. */
  readonly gatewayClass?: string;
  /** Elect one status writer among replicas with this Lease (`--leader-elect`). */
  readonly leaderElection?: {
    readonly namespace: string;
    readonly name: string;
    readonly leaseDurationMs: number;
  };
  /** The EndpointPickerConfig's file or ConfigMap (`--config-file`, `--config-map`). */
  readonly pickerConfig?: PickerConfigRef;
}

/** The Kubernetes source of `o`; `defaultPort`: the implicit listener's (no Gateway). */
export function kubeSource(o: KubeCoreOptions, defaultPort: number, logger: Logger): KubeSource {
  return new KubeSource({
    kubeConfig: o.kubeConfig,
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.gatewayClass !== undefined ? { gatewayClass: o.gatewayClass } : {}),
    ...(o.pickerConfig ? { pickerConfig: o.pickerConfig } : {}),
    defaultPort,
    logger,
  });
}

export interface KubeStatus {
  /** Releases the Lease (when leading) and stops writing. */
  close(): Promise<void>;
}

/**
 * Starts writing status from `source`'s views; `gatewayStatus`: Gateways, HTTPRoutes and pool
 * parents too (the proxy), else only InferenceModel/Objective conditions (the endpoint picker).
 * `onLeader` hears at once whether this replica leads (false until elected; true without leader
 * election), then each change.
 */
export function startKubeStatus(
  source: KubeSource,
  o: KubeCoreOptions,
  logger: Logger,
  settings: { readonly gatewayStatus: boolean; readonly onLeader?: (leading: boolean) => void },
): KubeStatus {
  const writer = new StatusWriter({
    kubeConfig: o.kubeConfig,
    logger,
    gatewayStatus: settings.gatewayStatus,
    ...(o.gatewayClass !== undefined ? { gatewayClass: o.gatewayClass } : {}),
  });
  const election = o.leaderElection
    ? new LeaderElection({
        kubeConfig: o.kubeConfig,
        ...o.leaderElection,
        logger,
        onLeader: (leading) => {
          writer.setLeader(leading);
          settings.onLeader?.(leading);
        },
      })
    : undefined;
  // Until elected, a candidate is a follower.
  writer.setLeader(election === undefined);
  settings.onLeader?.(election === undefined);
  source.onView((view) => writer.update(view));
  election?.start();
  return {
    async close() {
      await election?.close();
      writer.close();
    },
  };
}
