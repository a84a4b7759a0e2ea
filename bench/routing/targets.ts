/**
 * The routers `npm run bench:routing` compares, each started in front of the same `igw sim` replicas:
 * a round-robin proxy (a plain Kubernetes Service), `igw serve` with the scorer profile or with an
 * EndpointPickerConfig from a file, and the peer routers vllm-router and sglang-router (installed by
 * `npm run testenv -- ensure peers`) with their cache_aware and round_robin policies.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startIgw } from "../../src/demo/igw-process.ts";
import { startRoundRobinProxy } from "../../src/demo/round-robin-proxy.ts";

/** A router listening in front of the replicas. */
export interface RunningTarget {
  url: string;
  stop(): Promise<void>;
}

/** What a target needs to start. kvEvents: replica address (host:port) -> its KV-event PUB endpoint. */
export interface TargetContext {
  simUrls: readonly string[];
  kvEvents: ReadonlyMap<string, string>;
  /** The CLI entry (src/cli/main.ts) for `igw serve`. */
  igwEntry: string;
}

/** A target: its name in tables and how to start it. */
export interface Target {
  name: string;
  start(ctx: TargetContext): Promise<RunningTarget>;
}

const POOL_MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: pool
  annotations:
    inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"
spec:
  selector: {app: sim}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: m}
spec: {modelName: m, criticality: Critical, poolRef: {name: pool}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

/**
 * `igw serve` over the replicas. pickerConfig: an EndpointPickerConfig document appended to the
 * manifests (it then applies to the pool); its text may contain `{{kvEventsEndpoints}}`, replaced by a
 * YAML flow mapping of replica address -> KV-event endpoint (the simulators publish events whenever a
 * picker config is given).
 */
export function igwTarget(name: string, pickerConfig: string | null): Target {
  return {
    name,
    async start(ctx) {
      const dir = mkdtempSync(join(tmpdir(), "igw-routing-"));
      const kv = `{${[...ctx.kvEvents].map(([a, e]) => `"${a}": "${e}"`).join(", ")}}`;
      const picker =
        pickerConfig === null ? "" : `---\n${pickerConfig.replaceAll("{{kvEventsEndpoints}}", kv)}`;
      writeFileSync(join(dir, "gateway.yaml"), POOL_MANIFESTS + picker);
      writeFileSync(
        join(dir, "endpoints.yaml"),
        `endpoints:\n${ctx.simUrls.map((u) => `- address: ${new URL(u).host}\n  labels: {app: sim}\n`).join("")}`,
      );
      try {
        const gw = await startIgw(
          "serve",
          ["-f", join(dir, "gateway.yaml"), "--endpoints", join(dir, "endpoints.yaml")].concat([
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--log-level",
            "warn",
          ]),
          1,
          ctx.igwEntry,
        );
        return {
          url: gw.urls[0]!,
          stop: async () => {
            await gw.stop();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    },
  };
}

export const roundRobinTarget: Target = {
  name: "round-robin",
  async start(ctx) {
    const rr = await startRoundRobinProxy(ctx.simUrls);
    return { url: rr.url, stop: rr.close };
  },
};

/** A free TCP port on 127.0.0.1 (for routers that cannot listen on port 0 and report it). */
async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, "close");
  return port;
}

/** Stops a child: SIGTERM, SIGKILL after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

/**
 * A peer router (vllm-router or sglang-router) from its testenv launcher, with --worker-urls, the
 * policy and --worker-startup-check-interval 1; ready once its /health answers 200 and one
 * completion went through (60 s).
 */
export function peerTarget(
  router: "vllm-router" | "sglang-router",
  policy: string,
  launcher: string,
): Target {
  return {
    name: `${router} ${policy}`,
    async start(ctx) {
      const [port, metricsPort] = [await freePort(), await freePort()];
      const args = [
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--worker-urls",
        ...ctx.simUrls,
        "--policy",
        policy,
        "--worker-startup-check-interval",
        "1",
        "--prometheus-port",
        String(metricsPort),
        "--log-level",
        router === "vllm-router" ? "warning" : "warn",
      ];
      const child = spawn(launcher, args, { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr!.on("data", (c: Buffer) => {
        err = (err + c.toString()).slice(-3000);
      });
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${router} exited with ${child.exitCode}:\n${err}`);
        const ok = await fetch(`${url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", prompt: "ready", max_tokens: 1 }),
          signal: AbortSignal.timeout(2000),
        })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) break;
        if (Date.now() > deadline) {
          await stopChild(child);
          throw new Error(`${router} did not become ready in 60 s:\n${err}`);
        }
        await sleep(250);
      }
      return { url, stop: () => stopChild(child) };
    },
  };
}

/** The picker config file's text, for igwTarget. */
export function readPickerConfig(file: string): string {
  return readFileSync(file, "utf8");
}
