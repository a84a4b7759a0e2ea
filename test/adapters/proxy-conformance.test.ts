/** The adapter conformance suite for the HTTP proxy (`igw serve`'s data plane), in-process. */
import { request } from "undici";
import { startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { coreGauges, runAdapterConformance } from "./conformance.ts";

runAdapterConformance({
  name: "proxy",
  async start(manifests, endpoints) {
    const { gw, close } = await startInProcessGateway(manifests, endpoints, { app: "conformance" });
    return {
      url: gw.url,
      async gauges() {
        const res = await request(`${gw.url}/metrics`);
        return coreGauges(gw.datastore.endpoints(), await res.body.text());
      },
      close,
    };
  },
});
