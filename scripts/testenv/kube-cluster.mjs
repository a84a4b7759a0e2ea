// A real Kubernetes control plane on loopback, the way envtest runs one: etcd plus kube-apiserver,
// client-certificate auth (admin in system:masters), RBAC authorization, ServiceAccount admission
// off, service-account signing keys, free ports; no kubelet, scheduler or controller-manager.
// `kubeUp` starts both detached (so `npm run testenv -- kube-up DIR` can exit), writes
// DIR/kubeconfig and DIR/cluster.json, and installs CRDs; `kubeDown` stops both and removes DIR's state.
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeCertificates } from "./kube-certs.mjs";

/** Entries kube-up creates in DIR (and kube-down removes). */
const STATE = ["pki", "etcd-data", "logs", "kubeconfig", "cluster.json"];
const READY_TIMEOUT_MS = 120_000;

/** A port that was free a moment ago (bound to 0 on 127.0.0.1, then released). */
function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

/** Whether `pid` runs; a zombie (exited, not yet reaped by a parent that is not us) counts as gone. */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

function startDetached(bin, args, logFile) {
  const fd = openSync(logFile, "a");
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  return child.pid;
}

function logTail(file, lines = 30) {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** GET `path` on the API server with the admin certificate; resolves to [status, body]. */
function adminGet(cluster, path) {
  const pki = cluster.pki;
  return new Promise((res, rej) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: cluster.apiserverPort,
        path,
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        timeout: 5000,
      },
      (r) => {
        let body = "";
        r.setEncoding("utf8");
        r.on("data", (c) => {
          body += c;
        });
        r.on("end", () => res([r.statusCode, body]));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", rej);
    req.end();
  });
}

/** Polls until `check()` resolves true, a process died, or the deadline passes. */
async function waitFor(what, check, pids, logs) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    for (const [name, pid] of Object.entries(pids)) {
      if (!alive(pid)) throw new Error(`${name} exited while waiting for ${what}:\n${logTail(logs[name])}`);
    }
    try {
      if (await check()) return;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what} (${last})`);
}

function kubeconfig(cluster) {
  const b64 = (file) => readFileSync(file).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: igw-testenv",
    "    cluster:",
    `      server: ${cluster.server}`,
    `      certificate-authority-data: ${b64(cluster.pki.ca)}`,
    "users:",
    "  - name: igw-admin",
    "    user:",
    `      client-certificate-data: ${b64(cluster.pki.adminCert)}`,
    `      client-key-data: ${b64(cluster.pki.adminKey)}`,
    "contexts:",
    "  - name: igw-testenv",
    "    context: { cluster: igw-testenv, user: igw-admin, namespace: default }",
    "current-context: igw-testenv",
    "",
  ].join("\n");
}

function kubectl(tools, kubeconfigPath, args) {
  const r = spawnSync(tools.kubectl, ["--kubeconfig", kubeconfigPath, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * Starts etcd and kube-apiserver for `dir` (created; must not hold a running cluster), waits for
 * /readyz, writes DIR/kubeconfig and DIR/cluster.json, then applies each folder of `crdDirs`
 * (server-side) and waits until every CRD is Established. Returns the cluster description.
 * `tools` needs etcd, kube-apiserver and kubectl paths.
 */
export async function kubeUp(dir, tools, { crdDirs = [], log = () => {} } = {}) {
  dir = resolve(dir);
  if (existsSync(join(dir, "cluster.json"))) {
    const old = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8"));
    if (Object.values(old.pids).some(alive))
      throw new Error(`${dir} already has a running cluster (kube-down it first)`);
  }
  for (const entry of STATE) rmSync(join(dir, entry), { recursive: true, force: true });
  const t0 = Date.now();
  const pki = makeCertificates(join(dir, "pki"));
  // Free ports are only free until someone binds them: when one is taken in between, try again.
  for (let attempt = 1; ; attempt++) {
    for (const entry of ["etcd-data", "logs"]) rmSync(join(dir, entry), { recursive: true, force: true });
    mkdirSync(join(dir, "logs"), { recursive: true });
    try {
      return await startOnce(dir, tools, pki, { crdDirs, log, t0 });
    } catch (e) {
      if (attempt === 3 || !/address already in use/.test(e.message)) throw e;
      log(`a port was taken meanwhile; retrying (${e.message.split("\n").pop()})`);
    }
  }
}

async function startOnce(dir, tools, pki, { crdDirs, log, t0 }) {
  const [etcdPort, etcdPeerPort, apiserverPort] = [await freePort(), await freePort(), await freePort()];
  const logs = {
    etcd: join(dir, "logs", "etcd.log"),
    "kube-apiserver": join(dir, "logs", "kube-apiserver.log"),
  };
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const pids = {};
  const cluster = {
    dir,
    server: `https://127.0.0.1:${apiserverPort}`,
    kubeconfig: join(dir, "kubeconfig"),
    apiserverPort,
    etcd: etcdUrl,
    pki,
    pids,
    logs,
  };
  const saveCluster = () => writeFileSync(join(dir, "cluster.json"), `${JSON.stringify(cluster, null, 2)}\n`);
  try {
    pids.etcd = startDetached(
      tools.etcd,
      [
        "--name=default",
        `--data-dir=${join(dir, "etcd-data")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--log-level=warn",
      ],
      logs.etcd,
    );
    saveCluster();
    cluster.apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${join(dir, "pki")}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.ca}`,
      "--authorization-mode=RBAC",
      "--disable-admission-plugins=ServiceAccount",
      `--service-account-key-file=${pki.saPublic}`,
      `--service-account-signing-key-file=${pki.saPrivate}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-cluster-ip-range=10.0.0.0/24",
      "--allow-privileged=true",
      "--v=1",
    ];
    cluster.apiserverBin = tools["kube-apiserver"];
    pids["kube-apiserver"] = startDetached(
      cluster.apiserverBin,
      cluster.apiserverArgs,
      logs["kube-apiserver"],
    );
    saveCluster();
    await waitFor(
      "kube-apiserver /readyz",
      async () => (await adminGet(cluster, "/readyz"))[0] === 200,
      pids,
      logs,
    );
    writeFileSync(cluster.kubeconfig, kubeconfig(cluster), { mode: 0o600 });
    log(`API server ready at ${cluster.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const crdDir of crdDirs) {
      kubectl(tools, cluster.kubeconfig, ["apply", "--server-side", "--force-conflicts", "-f", crdDir]);
    }
    if (crdDirs.length > 0) {
      kubectl(tools, cluster.kubeconfig, [
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=60s",
      ]);
      log(
        `CRDs installed from ${crdDirs.length} folders in ${((Date.now() - t0) / 1000).toFixed(1)} s total`,
      );
    }
    return cluster;
  } catch (e) {
    await stop(pids);
    throw e;
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once every process is gone. */
async function stop(pids) {
  const order = ["kube-apiserver", "etcd"].map((n) => pids[n]).filter((p) => p !== undefined);
  for (const pid of order) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      while (alive(pid)) await sleep(50);
    }
  }
}

/**
 * Restarts the API server of DIR (etcd keeps running, so every object and resourceVersion
 * survives): SIGTERM, wait `downMs` with no server on the port, start it with the same flags, wait
 * for /readyz. Resolves to [down at, ready again at] (ms since the epoch).
 */
export async function kubeRestartApiserver(dir, { downMs = 0 } = {}) {
  dir = resolve(dir);
  const file = join(dir, "cluster.json");
  const cluster = JSON.parse(readFileSync(file, "utf8"));
  await stop({ "kube-apiserver": cluster.pids["kube-apiserver"] });
  const downAt = Date.now();
  if (downMs > 0) await sleep(downMs);
  cluster.pids["kube-apiserver"] = startDetached(
    cluster.apiserverBin,
    cluster.apiserverArgs,
    cluster.logs["kube-apiserver"],
  );
  writeFileSync(file, `${JSON.stringify(cluster, null, 2)}\n`);
  await waitFor(
    "kube-apiserver /readyz after a restart",
    async () => (await adminGet(cluster, "/readyz"))[0] === 200,
    cluster.pids,
    cluster.logs,
  );
  return [downAt, Date.now()];
}

/** Stops the cluster recorded in DIR/cluster.json (if any) and removes what kubeUp created in DIR. */
export async function kubeDown(dir) {
  dir = resolve(dir);
  const file = join(dir, "cluster.json");
  if (existsSync(file)) await stop(JSON.parse(readFileSync(file, "utf8")).pids);
  for (const entry of STATE) rmSync(join(dir, entry), { recursive: true, force: true });
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}
