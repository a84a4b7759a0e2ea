// Debian packages the suite and benchmarks use: nginx-light and wrk (proxy benchmark), prometheus
// (observability test), chromium (dashboard browser test). Installed with apt-get when missing.
import { existsSync } from "node:fs";
import { output, run } from "./run.mjs";

/** Package → the binaries it provides (tool name → path). */
const PACKAGES = {
  "nginx-light": { nginx: "/usr/sbin/nginx" },
  wrk: { wrk: "/usr/bin/wrk" },
  prometheus: { prometheus: "/usr/bin/prometheus", promtool: "/usr/bin/promtool" },
  chromium: { chromium: "/usr/bin/chromium" },
};

/** Installs the missing packages in one apt-get call (apt-get update first, once). */
export function aptInstall(packages, log) {
  const missing = packages.filter(
    (p) => !/^Status: install ok installed$/m.test(output("dpkg", ["-s", p]) ?? ""),
  );
  if (missing.length === 0) return;
  log(`apt-get install ${missing.join(" ")}`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) =>
    sudo.length ? run("sudo", ["apt-get", ...args], { env }) : run("apt-get", args, { env });
  // Wait for a dpkg lock held by another installer rather than failing at once.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  apt([...lock, "update", "-q"]);
  apt([...lock, "install", "-y", "-q", "--no-install-recommends", ...missing]);
}

export const component = {
  name: "debian",
  description: `Debian packages: ${Object.keys(PACKAGES).join(", ")}`,
  suite: true,
  async ensure({ log }) {
    aptInstall(Object.keys(PACKAGES), log);
    const tools = {};
    for (const binaries of Object.values(PACKAGES)) {
      for (const [tool, path] of Object.entries(binaries)) {
        if (!existsSync(path)) throw new Error(`${path} is missing after installing its package`);
        tools[tool] = path;
      }
    }
    return tools;
  },
};
