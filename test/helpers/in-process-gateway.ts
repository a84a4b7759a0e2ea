/** `igw serve` started inside the test process, from manifest text and endpoint addresses, on a loopback port. */
import { type GatewayOptions, type RunningGateway, startGateway } from "../../src/gateway/start-gateway.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { tempFiles } from "./temp-dir.ts";

export interface InProcessGateway {
  gw: RunningGateway;
  /** The folder holding `gateway.yaml` and `endpoints.yaml` (rewrite them to test reloads). */
  files: ReturnType<typeof tempFiles>;
  /** Closes the gateway and removes its files. */
  close(): Promise<void>;
}

/** The endpoints file for `addresses`, each labelled `labels`. */
export function endpointsYaml(addresses: readonly string[], labels: Record<string, string>): string {
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return `endpoints:\n${addresses.map((a) => `  - address: ${a}\n    labels: {${labelText}}\n`).join("")}`;
}

/**
 * Starts a gateway on 127.0.0.1 with no file watching and no served-models check, silent unless
 * `options.logger` says otherwise. `addresses: null` starts it with no endpoints file at all.
 */
export async function startInProcessGateway(
  manifests: string,
  addresses: readonly string[] | null,
  labels: Record<string, string>,
  options: Partial<GatewayOptions> = {},
): Promise<InProcessGateway> {
  const files = tempFiles({
    "gateway.yaml": manifests,
    ...(addresses ? { "endpoints.yaml": endpointsYaml(addresses, labels) } : {}),
  });
  const gw = await startGateway({
    manifests: [files.path("gateway.yaml")],
    ...(addresses ? { endpointsFile: files.path("endpoints.yaml") } : {}),
    port: 0,
    host: "127.0.0.1",
    watchIntervalMs: 0,
    checkIntervalMs: 0,
    logger: silentLogger(),
    ...options,
  });
  return {
    gw,
    files,
    async close() {
      await gw.close();
      files.cleanup();
    },
  };
}
