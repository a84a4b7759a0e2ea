/**
 * The Kubernetes flags of the commands that run the core (`igw serve`, `igw epp`), with one
 * wording, and the choice between the file source (`-f`) and the Kubernetes source (`--kube`).
 */
import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseDuration } from "../api/duration.ts";
import type { KubeCoreOptions } from "../gateway/kube-core.ts";
import { UsageError } from "./cli-errors.ts";

/** A Go-style duration ("15s", "1m30s") of 1 s to 1 h, in ms. */
function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000 || ms > 3_600_000)
    throw new InvalidArgumentError("expected a duration of 1s to 1h, such as 15s");
  return ms;
}

/** The configuration source the flags name: files (`-f`) or Kubernetes (`--kube`); exactly one. */
export async function sourceOptions(
  opts: KubeFlagValues,
  gatewayClass?: string,
): Promise<{ manifests: string[] } | { kube: KubeCoreOptions }> {
  if (opts.kube) {
    if (opts.file !== undefined) throw new UsageError("-f and --kube are exclusive: choose one source");
    if (opts.endpoints !== undefined)
      throw new UsageError("--endpoints is for -f: with --kube the endpoints are the pools' Pods");
    // Loaded only with --kube (client-node is large).
    const { KubeConfigError, loadKubeConfig } = await import("../kube/load-kube-config.ts");
    try {
      const kubeConfig = loadKubeConfig(opts.kubeconfig);
      return {
        kube: {
          kubeConfig,
          ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
          ...(gatewayClass !== undefined ? { gatewayClass } : {}),
          ...(opts.leaderElect
            ? {
                leaderElection: {
                  namespace: opts.leaderElectNamespace ?? process.env["POD_NAMESPACE"] ?? "default",
                  name: opts.leaderElectLeaseName,
                  leaseDurationMs: opts.leaderElectLeaseDuration,
                },
              }
            : {}),
        },
      };
    } catch (e) {
      throw e instanceof KubeConfigError ? new UsageError(e.message) : e;
    }
  }
  if (
    opts.kubeconfig !== undefined ||
    opts.namespace !== undefined ||
    gatewayClass !== undefined ||
    opts.leaderElect
  )
    throw new UsageError("--kubeconfig, --namespace, --gateway-class and --leader-elect need --kube");
  if (opts.file === undefined)
    throw new UsageError(
      "no configuration: pass -f FILE|FOLDER (manifests) or --kube (a Kubernetes API server)",
    );
  return { manifests: opts.file };
}

/** The flag values `sourceOptions` reads. */
export interface KubeFlagValues {
  file?: string[];
  kube?: true;
  kubeconfig?: string;
  namespace?: string;
  leaderElect?: true;
  leaderElectNamespace?: string;
  leaderElectLeaseName: string;
  leaderElectLeaseDuration: number;
  endpoints?: string;
}

/** The Kubernetes flags, as Option objects to `addOption()`. */
export const kubeFlags = {
  kube: () =>
    new Option("--kube", "read the configuration and the endpoints (Pods) from a Kubernetes API server"),
  kubeconfig: () =>
    new Option("--kubeconfig <file>", "with --kube: kubeconfig file (default: KUBECONFIG, else in-cluster)"),
  namespace: () =>
    new Option("--namespace <ns>", "with --kube: watch only this namespace (default: all that RBAC allows)"),
  leaderElect: () =>
    new Option(
      "--leader-elect",
      "with --kube: elect one replica with a coordination.k8s.io Lease (serve: it writes status; epp: only it is ready)",
    ),
  leaderElectNamespace: () =>
    new Option(
      "--leader-elect-namespace <ns>",
      "namespace of the Lease (default: POD_NAMESPACE, else default)",
    ),
  leaderElectLeaseName: () =>
    new Option("--leader-elect-lease-name <name>", "name of the Lease").default("inference-gateway"),
  leaderElectLeaseDuration: () =>
    new Option(
      "--leader-elect-lease-duration <duration>",
      "how long a Lease lasts unrenewed: a follower takes over this long after the leader stops",
    )
      .argParser(duration)
      .default(15_000, "15s"),
};
