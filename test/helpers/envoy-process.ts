/**
 * A real Envoy (the testenv `envoy` component) on loopback: started from a bootstrap object, admin on
 * port 0 (its address read from --admin-address-path), ready once /ready answers LIVE and the
 * listener's bound port is known.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { tempFiles } from "./temp-dir.ts";
import { testTool } from "./testenv.ts";

export interface EnvoyProcess {
  /** http://127.0.0.1:PORT of the first listener. */
  readonly url: string;
  /** http://127.0.0.1:PORT of the admin interface. */
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** What Envoy logged so far (stderr). */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; removes the temporary folder. */
  stop(): Promise<void>;
}

/** Starts Envoy with `config` (a bootstrap object) and waits until it serves (20 s timeout). */
export async function startEnvoy(config: object, logLevel = "warning"): Promise<EnvoyProcess> {
  const bin = testTool("envoy");
  const tmp = tempFiles({ "envoy.yaml": stringify(config) });
  const adminPath = tmp.path("admin-address");
  writeFileSync(adminPath, "");
  const child = spawn(
    bin,
    [
      "-c",
      tmp.path("envoy.yaml"),
      "--admin-address-path",
      adminPath,
      "--disable-hot-restart",
      "--concurrency",
      "1",
      "--log-level",
      logLevel,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    tmp.cleanup();
  };
  try {
    const deadline = Date.now() + 20_000;
    let adminUrl = "";
    let url = "";
    while (url === "") {
      if (child.exitCode !== null) throw new Error(`envoy exited with ${child.exitCode}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`envoy did not become ready within 20 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
      const admin = existsSync(adminPath) ? readFileSync(adminPath, "utf8").trim() : "";
      if (admin === "") continue;
      adminUrl = `http://${admin}`;
      const ready = await fetch(`${adminUrl}/ready`).catch(() => undefined);
      if (ready?.status !== 200) continue;
      const listeners = (await (await fetch(`${adminUrl}/listeners?format=json`)).json()) as {
        listener_statuses?: {
          local_address?: { socket_address?: { address: string; port_value: number } };
        }[];
      };
      const sa = listeners.listener_statuses?.[0]?.local_address?.socket_address;
      if (sa?.port_value) url = `http://${sa.address}:${sa.port_value}`;
    }
    return { url, adminUrl, child, logs: () => stderr, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Envoy's health flag for each ext_proc endpoint, from /clusters ("healthy", "/failed_active_hc", ...). */
export async function clusterHealth(envoy: EnvoyProcess, cluster: string): Promise<string[]> {
  const text = await (await fetch(`${envoy.adminUrl}/clusters`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${cluster}::`) && l.includes("::health_flags::"))
    .map((l) => l.slice(l.lastIndexOf("::") + 2));
}
