/**
 * A real kube-apiserver and etcd on loopback for one test file, started by the same code path as
 * `npm run testenv -- kube-up DIR` (this helper runs that command) and stopped by `kube-down`.
 * Call `startKubeEnv()` in `before` and `env.stop()` in `after`.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { REPO_ROOT, testTool } from "./testenv.ts";

const run = promisify(execFile);
const TESTENV = join(REPO_ROOT, "scripts", "testenv.mjs");

/** What a finished kubectl run printed. */
export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubeEnv {
  /** Folder holding kubeconfig, pki/, logs/ (etcd.log, kube-apiserver.log). */
  readonly dir: string;
  /** Admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:PORT`. */
  readonly server: string;
  /** Runs the real kubectl against this API server; `input` is its stdin. Never throws on exit code. */
  kubectl(args: readonly string[], input?: string): KubectlResult;
  /**
   * Waits until the CRD `name` (`plural.group`) is Established and its resource is served: the
   * server updates discovery and its handler for the new resource after it reports Established,
   * and a request in between fails ("no matches for kind", 404), more often the busier the machine.
   */
  waitForCrd(name: string, timeoutMs?: number): Promise<void>;
  /** Runs a testenv tool (e.g. helm) with KUBECONFIG set to this server. */
  tool(name: string, args: readonly string[], input?: string): KubectlResult;
  /**
   * Restarts the API server (etcd and its data stay), `downMs` with nothing listening in between;
   * resolves once it is ready again, with when it went down and came back (ms since the epoch).
   */
  restartApiserver(downMs?: number): Promise<{ downAt: number; readyAt: number }>;
  /** kube-down: stops both processes and removes the folder. */
  stop(): Promise<void>;
}

/** Starts the control plane (CRDs: ours, Gateway API, BackendTrafficPolicy) in a fresh temp folder. */
export async function startKubeEnv(): Promise<KubeEnv> {
  const dir = mkdtempSync(join(tmpdir(), "igw-kube-"));
  try {
    await run(process.execPath, [TESTENV, "kube-up", dir], { timeout: 240_000, maxBuffer: 16 << 20 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: string; message: string };
    throw new Error(`kube-up failed: ${err.stderr?.trim() || err.message}`);
  }
  const cluster = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as {
    server: string;
    kubeconfig: string;
    pids: Record<string, number>;
  };
  // If the test process dies before `after`, do not leave an API server behind.
  const killOnExit = () => {
    for (const pid of Object.values(cluster.pids)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  };
  process.once("exit", killOnExit);
  const exec = (cmd: string, args: readonly string[], input?: string): KubectlResult => {
    const r = spawnSync(cmd, args, {
      encoding: "utf8",
      input,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const kubectlPath = testTool("kubectl", "kube");
  return {
    dir,
    kubeconfig: cluster.kubeconfig,
    server: cluster.server,
    kubectl: (args, input) => exec(kubectlPath, args, input),
    async waitForCrd(name, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      const established = exec(kubectlPath, [
        "wait",
        "--for=condition=Established",
        `crd/${name}`,
        `--timeout=${Math.ceil(timeoutMs / 1000)}s`,
      ]);
      if (established.status !== 0) throw new Error(`CRD ${name} not Established: ${established.stderr}`);
      for (;;) {
        // Mapped through discovery and answered by the resource's handler: both lag Established.
        const r = exec(kubectlPath, ["get", name, "--all-namespaces", "-o", "name"]);
        if (r.status === 0) return;
        if (Date.now() > deadline)
          throw new Error(`CRD ${name} not served ${timeoutMs} ms after it was created: ${r.stderr}`);
        await sleep(200);
      }
    },
    tool: (name, args, input) => exec(testTool(name, "kube"), args, input),
    async restartApiserver(downMs = 0) {
      const { stdout } = await run(
        process.execPath,
        [TESTENV, "kube-restart-apiserver", dir, String(downMs)],
        { timeout: 180_000 },
      );
      // The old process is gone; the exit handler must kill the new one.
      const now = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as typeof cluster;
      cluster.pids = now.pids;
      return JSON.parse(stdout) as { downAt: number; readyAt: number };
    },
    async stop() {
      process.removeListener("exit", killOnExit);
      await run(process.execPath, [TESTENV, "kube-down", dir], { timeout: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
