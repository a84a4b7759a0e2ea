/**
 * `igw epp`: its mistakes exit 2 with one message (bad flags, a pool the configuration lacks, a
 * missing certificate; each of its three ports in use names its flag), and a running picker
 * (a real process) serves `/metrics` and the dashboard on its metrics port and exits 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { usageMessage } from "../../src/cli/cli-errors.ts";
import { loadConfig } from "../../src/config/file-source.ts";
import { choosePool, startEpp } from "../../src/gateway/start-epp.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { startEppProcess } from "../helpers/epp-process.ts";
import { assertUsageError, runIgw } from "../helpers/igw-cli.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const ZERO_PORTS = [
  "--grpc-port",
  "0",
  "--grpc-health-port",
  "0",
  "--metrics-port",
  "0",
  "--host",
  "127.0.0.1",
];

const TWO_POOLS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: a}
spec: {selector: {app: a}, targetPortNumber: 8000, extensionRef: {name: epp}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: b, namespace: other}
spec: {selector: {app: b}, targetPortNumber: 8000, extensionRef: {name: epp}}
`;

describe("igw epp: usage errors exit 2 with one message", () => {
  it("as a process: a bad flag value, a missing certificate, a pool the configuration lacks", async () => {
    const empty = tempFiles({ "readme.txt": "no certificate here" });
    try {
      const [header, cert, absent] = await Promise.all([
        runIgw(["epp", "-f", "examples/seed", "--destination-endpoint-header", "bad header"]),
        runIgw(["epp", "-f", "examples/seed", "--cert-path", empty.dir, ...ZERO_PORTS]),
        runIgw(["epp", "-f", "examples/seed", "--pool-name", "nope", "--log-format", "json", ...ZERO_PORTS]),
      ]);
      assertUsageError(header!, /--destination-endpoint-header.*expected an HTTP header name/);
      assertUsageError(cert!, /--cert-path .*: tls\.crt and tls\.key not found/);
      assertUsageError(
        absent!,
        /"msg":"--pool-name nope: no InferencePool default\/nope in the configuration \(pools: default\/qwen-pool\)"/,
      );
    } finally {
      empty.cleanup();
    }
  });

  it("the pool: the only one, the only one in --pool-namespace, else an error listing them", () => {
    const t = tempFiles({ "pools.yaml": TWO_POOLS });
    try {
      const config = loadConfig([t.dir], { defaultPort: 8081 });
      assert.equal(choosePool(config, "b", "other"), "other/b");
      assert.equal(choosePool(config, undefined, "other"), "other/b");
      assert.throws(
        () => choosePool(config),
        /has 2 InferencePools \(default\/a, other\/b\): choose one with --pool-name and --pool-namespace/,
      );
      assert.throws(
        () => choosePool(config, "b"),
        /--pool-name b: no InferencePool default\/b .*\(pools: default\/a, other\/b\)/,
      );
      assert.throws(() => choosePool(config, undefined, "third"), /namespace third has no InferencePool/);
    } finally {
      t.cleanup();
    }
  });

  it("each of the three ports in use is a listen error naming its flag", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      for (const flag of ["grpcPort", "grpcHealthPort", "metricsPort"] as const) {
        const ports = { grpcPort: 0, grpcHealthPort: 0, metricsPort: 0, [flag]: port };
        const e = await startEpp({
          manifests: ["examples/seed"],
          host: "127.0.0.1",
          ...ports,
          watchIntervalMs: 0,
          checkIntervalMs: 0,
          logger: silentLogger(),
        }).then(
          async (epp) => {
            await epp.close();
            return undefined;
          },
          (err: unknown) => err,
        );
        const cli = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        assert.equal(
          usageMessage(e),
          `cannot listen on 127.0.0.1:${port}: the address is already in use: stop the other server, or choose another port with ${cli} (EADDRINUSE)`,
        );
      }
    } finally {
      busy.close();
    }
  });
});

describe("igw epp: running", () => {
  it("serves /metrics and /dashboard on the metrics port, 404 elsewhere, and exits 0 on SIGTERM", async () => {
    const t = tempFiles({ "endpoints.yaml": "endpoints:\n- address: 127.0.0.1:9\n  labels: {app: qwen}\n" });
    const epp = await startEppProcess(["-f", "examples/seed", "--endpoints", t.path("endpoints.yaml")]);
    try {
      assert.equal(epp.poolKey, "default/qwen-pool", "the only pool is chosen without --pool-name");
      const metrics = await fetch(`${epp.metricsUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^inference_pool_ready_pods\{name="qwen-pool"\} /m);
      const page = await fetch(`${epp.metricsUrl}/dashboard`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      await page.text();
      const other = await fetch(`${epp.metricsUrl}/v1/completions`);
      assert.equal(other.status, 404);
      assert.match(
        ((await other.json()) as { error: { message: string } }).error.message,
        /serves \/metrics/,
      );
      const exited = once(epp.child, "exit");
      epp.child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, epp.stderr());
    } finally {
      await epp.stop();
      t.cleanup();
    }
  });
});
