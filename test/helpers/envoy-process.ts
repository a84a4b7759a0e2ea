/**
 * A real Envoy (the testenv `envoy` component) on loopback, started from a bootstrap object: the
 * package's runner (src/envoy/envoy-process.ts) with testenv's binary.
 */
import { type EnvoyProcess, startEnvoyProcess } from "../../src/envoy/envoy-process.ts";
import { testTool } from "./testenv.ts";

export type { EnvoyProcess };

/** Starts Envoy with `config` (a bootstrap object) and waits until it serves (20 s timeout). */
export function startEnvoy(config: object, logLevel = "warning"): Promise<EnvoyProcess> {
  return startEnvoyProcess(testTool("envoy"), config, logLevel);
}

/** Envoy's health flag for each ext_proc endpoint, from /clusters ("healthy", "/failed_active_hc", ...). */
export async function clusterHealth(envoy: EnvoyProcess, cluster: string): Promise<string[]> {
  const text = await (await fetch(`${envoy.adminUrl}/clusters`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${cluster}::`) && l.includes("::health_flags::"))
    .map((l) => l.slice(l.lastIndexOf("::") + 2));
}
