/** The adapter conformance suite for the HTTP proxy (`igw serve`'s data plane), in-process. */
import { request } from "undici";
import { startGateway } from "../../src/gateway/start-gateway.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { tempFiles } from "../helpers/temp-dir.ts";
import { coreGauges, runAdapterConformance } from "./conformance.ts";

runAdapterConformance({
  name: "proxy",
  async start(manifests, endpoints) {
    const files = tempFiles({
      "gateway.yaml": manifests,
      "endpoints.yaml": `endpoints:\n${endpoints.map((e) => `- address: ${e}\n  labels: {app: conformance}\n`).join("")}`,
    });
    const gw = await startGateway({
      manifests: [files.path("gateway.yaml")],
      endpointsFile: files.path("endpoints.yaml"),
      port: 0,
      host: "127.0.0.1",
      watchIntervalMs: 0,
      checkIntervalMs: 0,
      logger: silentLogger(),
    });
    return {
      url: gw.url,
      async gauges() {
        const res = await request(`${gw.url}/metrics`);
        return coreGauges(gw.datastore.endpoints(), await res.body.text());
      },
      async close() {
        await gw.close();
        files.cleanup();
      },
    };
  },
});
