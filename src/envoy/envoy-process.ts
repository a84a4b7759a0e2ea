/**
 * A real Envoy on loopback: started from a bootstrap object, admin on port 0 (its address read from
 * --admin-address-path), ready once /ready answers LIVE and the listener's bound port is known.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface EnvoyProcess {
  /** http://127.0.0.1:PORT of the first listener. */
  readonly url: string;
  /** http://127.0.0.1:PORT of the admin interface. */
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** What Envoy logged so far (stderr, the last MB). */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; removes the temporary folder. */
  stop(): Promise<void>;
}

/** Starts the Envoy binary `bin` with `config` (`--concurrency 1`) and waits until it serves (20 s timeout). */
export async function startEnvoyProcess(
  bin: string,
  config: object,
  logLevel = "warning",
): Promise<EnvoyProcess> {
  const dir = mkdtempSync(join(tmpdir(), "igw-envoy-"));
  const configPath = join(dir, "envoy.yaml");
  const adminPath = join(dir, "admin-address");
  writeFileSync(configPath, stringify(config));
  writeFileSync(adminPath, "");
  const args = ["-c", configPath, "--admin-address-path", adminPath, "--disable-hot-restart"];
  const child = spawn(bin, [...args, "--concurrency", "1", "--log-level", logLevel], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let failure: Error | undefined;
  void spawnFailed.then((e) => {
    failure = new Error(`cannot run envoy (${bin}): ${e.message}`);
  });
  try {
    const deadline = Date.now() + 20_000;
    let adminUrl = "";
    let url = "";
    while (url === "") {
      if (failure) throw failure;
      if (child.exitCode !== null) throw new Error(`envoy exited with ${child.exitCode}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`envoy did not become ready within 20 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
      const admin = readFileSync(adminPath, "utf8").trim();
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

/** Counters of one cluster (`cluster.<cluster>.<counter>`) from the admin interface; 0 for those absent. */
export async function clusterCounters(
  envoy: EnvoyProcess,
  cluster: string,
  counters: readonly string[],
): Promise<Record<string, number>> {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=^cluster\\.${cluster}\\.`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.lastIndexOf(": ");
    if (colon > 0) values.set(line.slice(0, colon), Number(line.slice(colon + 2)));
  }
  return Object.fromEntries(counters.map((c) => [c, values.get(`cluster.${cluster}.${c}`) ?? 0]));
}
