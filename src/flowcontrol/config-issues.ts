/** Config validation errors with the exact field path, so the manifest loader can add file and line. */
import type { z } from "zod";

/** One problem in a config section: where (path from the section root) and why. */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Thrown for an invalid flow-control section or detector; `issues` lists every problem found. */
export class FlowControlConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("; "));
    this.name = "FlowControlConfigError";
    this.issues = issues;
  }
}

/** `flowControl.priorityBands[1].maxBytes` style path. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(root)" : out;
}

/** zod issues, re-rooted under `prefix`, with unknown keys named. */
export function fromZod(
  prefix: readonly (string | number)[],
  issues: readonly z.core.$ZodIssue[],
): ConfigIssue[] {
  return issues.map((i) => {
    const path = [...prefix, ...i.path.filter((p): p is string | number => typeof p !== "symbol")];
    if (i.code === "unrecognized_keys") {
      return {
        path,
        message: `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    return { path, message: i.message };
  });
}
