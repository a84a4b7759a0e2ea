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

/** The ConfigMap key upstream's chart mounts (`inferenceExtension.pluginsConfigFile`). */
const DEFAULT_CONFIG_MAP_KEY = "default-plugins.yaml";

/** `NAMESPACE/NAME`. */
function namespacedName(value: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected NAMESPACE/NAME, e.g. default/qwen-epp-config");
  return { namespace: m[1]!, name: m[3]! };
}

/**
 * The configuration source the flags name: files (`-f`) or Kubernetes (`--kube`); exactly one.
 * `--config-file` is one more manifest with `-f`, and the polled EndpointPickerConfig with `--kube`.
 */
export async function sourceOptions(
  opts: KubeFlagValues,
  gatewayClass?: string,
): Promise<{ manifests: string[] } | { kube: KubeCoreOptions }> {
  if (opts.kube) {
    if (opts.file !== undefined) throw new UsageError("-f and --kube are exclusive: choose one source");
    if (opts.endpoints !== undefined)
      throw new UsageError("--endpoints is for -f: with --kube the endpoints are the pools' Pods");
    if (opts.configFile !== undefined && opts.configMap !== undefined)
      throw new UsageError(
        "--config-file and --config-map are exclusive: the EndpointPickerConfig has one source",
      );
    // Loaded only with --kube (client-node is large).
    const { KubeConfigError, loadKubeConfig } = await import("../kube/load-kube-config.ts");
    try {
      const kubeConfig = loadKubeConfig(opts.kubeconfig);
      return {
        kube: {
          kubeConfig,
          ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
          ...(gatewayClass !== undefined ? { gatewayClass } : {}),
          ...(opts.configFile !== undefined
            ? { pickerConfig: { file: opts.configFile, intervalMs: opts.watchInterval || 1000 } }
            : {}),
          ...(opts.configMap !== undefined
            ? { pickerConfig: { configMap: { ...opts.configMap, key: opts.configMapKey } } }
            : {}),
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
    opts.leaderElect ||
    opts.configMap !== undefined
  )
    throw new UsageError(
      "--kubeconfig, --namespace, --gateway-class, --leader-elect and --config-map need --kube",
    );
  if (opts.file === undefined)
    throw new UsageError(
      "no configuration: pass -f FILE|FOLDER (manifests) or --kube (a Kubernetes API server)",
    );
  return { manifests: opts.configFile !== undefined ? [...opts.file, opts.configFile] : opts.file };
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
  configFile?: string;
  configMap?: { namespace: string; name: string };
  configMapKey: string;
  /** File polling interval, ms (0 = never; the `--config-file` poll then uses 1 s). */
  watchInterval: number;
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
  configFile: () =>
    new Option(
      "--config-file <file>",
      "EndpointPickerConfig file, e.g. a mounted ConfigMap key (upstream's flag); reread on change",
    ),
  configMap: () =>
    new Option(
      "--config-map <namespace/name>",
      "with --kube: watch this ConfigMap for the EndpointPickerConfig (invalid versions get an Event and are not applied)",
    ).argParser(namespacedName),
  configMapKey: () =>
    new Option("--config-map-key <key>", "the --config-map key holding the EndpointPickerConfig").default(
      DEFAULT_CONFIG_MAP_KEY,
    ),
};
