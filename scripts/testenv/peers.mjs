// Peer routers for the routing benchmark: vllm-router and sglang-router, the Rust routers that PyPI
// ships as Python wheels. Each is installed with `pip install --target` into <cache>/peers/<name>-<version>
// (the wheel carries the compiled router; its Python dependencies come along), and a launcher script
// <cache>/peers/bin/<name> runs `python3 -m <module>.launch_router` with that folder on PYTHONPATH.
// Tools: vllm-router, sglang-router (the launchers); <cache>/peers/peers.json records name -> version.
// Not in the suite: `npm run testenv -- ensure peers` installs them (about 230 MB).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aptInstall } from "./debian.mjs";
import { output, run } from "./run.mjs";

/** The routers, pinned: PyPI name, version, the module whose launch_router is the CLI. */
export const PEERS = [
  { name: "vllm-router", version: "0.1.17", module: "vllm_router" },
  { name: "sglang-router", version: "0.3.2", module: "sglang_router" },
];

/** python3 with pip, installing Debian's python3-pip when pip is missing. */
function python(log) {
  if (output("python3", ["-m", "pip", "--version"]) === undefined)
    aptInstall(["python3", "python3-pip"], log);
  const version = output("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
  if (version === undefined) throw new Error("python3 is not available after installing it");
  const [major, minor] = version.split(".").map(Number);
  if (major < 3 || (major === 3 && minor < 8)) throw new Error(`python3 ${version} is too old (need >= 3.8)`);
  return output("python3", ["-c", "import sys; print(sys.executable)"]);
}

/** name -> version of the peers installed in this cache (empty when none). */
export function peerVersions(cache) {
  const file = join(cache, "peers", "peers.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
}

export const component = {
  name: "peers",
  description: `peer routers from PyPI: ${PEERS.map((p) => `${p.name} ${p.version}`).join(", ")}`,
  suite: false,
  async ensure({ cache, log }) {
    const root = join(cache, "peers");
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    const py = python(log);
    const tools = {};
    const versions = {};
    for (const p of PEERS) {
      const dir = join(root, `${p.name}-${p.version}`);
      const marker = join(dir, ".installed");
      if (!existsSync(marker)) {
        log(`pip install --target ${dir} ${p.name}==${p.version}`);
        run(py, [
          "-m",
          "pip",
          "install",
          "--quiet",
          "--disable-pip-version-check",
          "--no-warn-conflicts",
          "--target",
          dir,
          `${p.name}==${p.version}`,
        ]);
        writeFileSync(marker, `${p.name}==${p.version}\n`);
      }
      const launcher = join(bin, p.name);
      writeFileSync(
        launcher,
        `#!/bin/sh\n# ${p.name} ${p.version}, installed by scripts/testenv/peers.mjs\n` +
          `PYTHONPATH='${dir}'\${PYTHONPATH:+:$PYTHONPATH} exec '${py}' -m ${p.module}.launch_router "$@"\n`,
      );
      chmodSync(launcher, 0o755);
      const help = output(launcher, ["--help"]);
      if (help === undefined || !help.includes("--worker-urls"))
        throw new Error(
          `${launcher} --help failed: the ${p.name} install is broken (delete ${dir} and retry)`,
        );
      tools[p.name] = launcher;
      versions[p.name] = p.version;
    }
    writeFileSync(join(root, "peers.json"), `${JSON.stringify(versions, null, 2)}\n`);
    return tools;
  },
};
