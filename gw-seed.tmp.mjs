import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import { startGateway } from "./dist/gateway/start-gateway.js";
import { silentLogger } from "./dist/observability/logger.js";
import { writeFileSync as w } from "node:fs";
w("/tmp/prof/eps-seed.yaml", "endpoints:\n  - address: 127.0.0.1:18000\n    labels: {app: qwen}\n");
const gw = await startGateway({ manifests: [process.env.MANIFESTS ?? "examples/seed"], endpointsFile: "/tmp/prof/eps-seed.yaml", port: Number(process.env.PORT), host: "127.0.0.1", logger: silentLogger() });
const session = new Session();
session.connect();
if (process.env.ALLOC) await session.post("HeapProfiler.startSampling", { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on("SIGUSR2", async () => {
  if (process.env.ALLOC) { const { profile } = await session.post("HeapProfiler.stopSampling"); writeFileSync("/tmp/prof/alloc-seed.heapprofile", JSON.stringify(profile)); }
  process.exit(0);
});
