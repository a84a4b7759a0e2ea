/**
 * Where the Kubernetes client's configuration comes from: `--kubeconfig FILE`, else the
 * KUBECONFIG variable (or ~/.kube/config), else the in-cluster service account. Fails with a
 * message naming all three when none is there, instead of client-node's silent localhost:8080.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Thrown when no configuration can be found or read; the CLI exits 2 on it. */
export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeConfigError";
  }
}

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Loads the configuration; `file` is `--kubeconfig`. Throws KubeConfigError. */
export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = env["KUBECONFIG"];
  const home = join(homedir(), ".kube", "config");
  try {
    if (file !== undefined) {
      if (!existsSync(file)) throw new KubeConfigError(`--kubeconfig ${file}: no such file`);
      kc.loadFromFile(file);
    } else if (fromEnv !== undefined && fromEnv !== "") {
      const files = fromEnv.split(":").filter((f) => f !== "");
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length)
        throw new KubeConfigError(`KUBECONFIG=${fromEnv}: no such file (${missing.join(", ")})`);
      kc.loadFromDefault();
    } else if (existsSync(home)) {
      kc.loadFromFile(home);
    } else if (env["KUBERNETES_SERVICE_HOST"] && existsSync(IN_CLUSTER_TOKEN)) {
      kc.loadFromCluster();
    } else {
      throw new KubeConfigError(
        "no Kubernetes configuration: pass --kubeconfig FILE, set KUBECONFIG, or run in a cluster " +
          "(service account token at " +
          IN_CLUSTER_TOKEN +
          ")",
      );
    }
  } catch (e) {
    if (e instanceof KubeConfigError) throw e;
    throw new KubeConfigError(`could not read the Kubernetes configuration: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new KubeConfigError("the Kubernetes configuration has no current cluster (current-context)");
  return kc;
}
