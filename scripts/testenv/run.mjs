// Small process helpers shared by the testenv components.
import { spawnSync } from "node:child_process";

/** Runs a command with inherited output; throws naming the command when it fails. */
export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
  if (r.error) throw new Error(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
}

/** Runs a command and returns its stdout (trimmed), or undefined when it fails. */
export function output(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
