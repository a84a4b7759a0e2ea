/**
 * The adapter conformance suite for the ext_proc endpoint picker (`igw epp`'s data plane): clients
 * talk to a real Envoy started from deploy/envoy/envoy.yaml (the override-host cluster listing the
 * fake model servers, Envoy's retry policy), which asks `startEpp` in this process.
 */
import { request } from "undici";
import { startEpp } from "../../src/gateway/start-epp.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { envoyTestConfig } from "../helpers/envoy-config.ts";
import { startEnvoy } from "../helpers/envoy-process.ts";
import { tempFiles } from "../helpers/temp-dir.ts";
import { coreGauges, runAdapterConformance, SLOW_TIMEOUT_MS } from "./conformance.ts";

runAdapterConformance({
  name: "ext_proc (Envoy)",
  async start(manifests, endpoints) {
    const files = tempFiles({
      "gateway.yaml": manifests,
      "endpoints.yaml": `endpoints:\n${endpoints.map((e) => `- address: ${e}\n  labels: {app: conformance}\n`).join("")}`,
    });
    const epp = await startEpp({
      manifests: [files.path("gateway.yaml")],
      endpointsFile: files.path("endpoints.yaml"),
      host: "127.0.0.1",
      grpcPort: 0,
      grpcHealthPort: 0,
      metricsPort: 0,
      watchIntervalMs: 0,
      checkIntervalMs: 0,
      logger: silentLogger(),
    });
    const envoy = await startEnvoy(
      envoyTestConfig({
        extProcPort: epp.grpcPort,
        healthPort: epp.healthPort,
        poolEndpoints: endpoints,
        // The HTTPRoute rule's timeout of model `slow`, as Envoy's route (the picker sees no routes).
        modelTimeouts: [{ model: "slow", timeout: `${SLOW_TIMEOUT_MS / 1000}s` }],
      }),
    ).catch(async (e: unknown) => {
      await epp.close();
      throw e;
    });
    return {
      url: envoy.url,
      async gauges() {
        const res = await request(`${epp.metricsUrl}/metrics`);
        return coreGauges(epp.datastore.endpoints(), await res.body.text());
      },
      async close() {
        await envoy.stop();
        await epp.close();
        files.cleanup();
      },
    };
  },
});
