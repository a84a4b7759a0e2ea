// Go builds for testenv components, from the Go module proxy with the machine's own Go: a binary
// built inside a generated wrapper module (for modules such as k8s.io/kubernetes whose go.mod
// replaces its dependencies with local folders), `go install pkg@version`, and a module's
// downloaded source folder. Outputs are written to a temporary name and renamed when complete.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { output, run } from "./run.mjs";

/** The go command: on PATH, else the usual install folder; throws with a hint when neither exists. */
export function goBinary() {
  if (output("go", ["version"]) !== undefined) return "go";
  if (existsSync("/usr/local/go/bin/go")) return "/usr/local/go/bin/go";
  throw new Error("the Go toolchain is needed to build this component (go on PATH or /usr/local/go/bin/go)");
}

/** Environment for go: never switch toolchains, modules on, CGO off (static binaries). */
function goEnv(extra = {}) {
  return {
    ...process.env,
    GOTOOLCHAIN: "local",
    GO111MODULE: "on",
    CGO_ENABLED: "0",
    GOFLAGS: "-mod=mod",
    ...extra,
  };
}

/** The folder of `module@version` in the module cache (downloaded when missing). */
export function goModuleDir(module, version) {
  const json = output(goBinary(), ["mod", "download", "-json", `${module}@${version}`], { env: goEnv() });
  const dir = json ? JSON.parse(json).Dir : undefined;
  if (!dir || !existsSync(dir)) throw new Error(`go mod download ${module}@${version} failed`);
  return dir;
}

/** `go install pkg@version` into `gobin`; returns the binary's path (`name` is its file name). */
export function goInstall(pkg, version, gobin, name) {
  mkdirSync(gobin, { recursive: true });
  run(goBinary(), ["install", "-trimpath", "-ldflags=-s -w", `${pkg}@${version}`], {
    env: goEnv({ GOBIN: gobin }),
  });
  return join(gobin, name);
}

/**
 * Builds the main packages `pkgs` of `module@version` inside a wrapper module at `workDir` whose
 * go.mod requires that module and replaces each of `replaces` with its given version. `outputs`
 * maps each package to the binary path to create. `ldflags` are passed as is.
 */
export function goBuildWrapped({ workDir, module, version, replaces, pkgs, outputs, ldflags = "" }) {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const go = goBinary();
  const replaceLines = Object.entries(replaces).map(([m, v]) => `\t${m} => ${m} ${v}`);
  writeFileSync(
    join(workDir, "go.mod"),
    `module igw.testenv/wrapper\n\ngo 1.24.0\n\nrequire ${module} ${version}\n\nreplace (\n${replaceLines.join("\n")}\n)\n`,
  );
  // A tools file makes `go mod tidy` resolve every dependency of the packages to build.
  writeFileSync(
    join(workDir, "tools.go"),
    `//go:build tools\n\npackage tools\n\nimport (\n${pkgs.map((p) => `\t_ "${p}"`).join("\n")}\n)\n`,
  );
  run(go, ["mod", "tidy"], { cwd: workDir, env: goEnv() });
  for (const pkg of pkgs) {
    const out = outputs[pkg];
    mkdirSync(dirname(out), { recursive: true });
    run(go, ["build", "-trimpath", `-ldflags=-s -w ${ldflags}`, "-o", `${out}.tmp`, pkg], {
      cwd: workDir,
      env: goEnv(),
    });
    renameSync(`${out}.tmp`, out);
  }
}
