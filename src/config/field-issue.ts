/**
 * "An issue at a field path" inside one object (a manifest, a config section, a plugin's
 * parameters). A leaf module: it imports nothing, so every layer (scheduling/, flowcontrol/, api/)
 * can throw FieldIssueError without reaching up into config/, which adds where the object came from
 * (file and line, or an API-server object) and turns it into the ConfigError users see.
 */

/** Keys and array indices from the object's root, e.g. `["spec", "targetModels", 1, "weight"]`. */
export type FieldPath = readonly (string | number)[];

/** One problem at `path`; `message` is written for a user (no library wording). */
export interface FieldIssue {
  readonly path: FieldPath;
  readonly message: string;
}

/** Thrown by validators below config/; `issues` lists every problem found (never empty). */
export class FieldIssueError extends Error {
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[]) {
    super(issues.map(formatIssueAt).join("; "));
    this.name = "FieldIssueError";
    this.issues = issues;
  }
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * `spec.targetModels[1].weight` from a path; "" for the root. Keys that are not plain names (an
 * annotation such as `a.example.com/x`) are written `["a.example.com/x"]`. Symbols are dropped.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "symbol") continue;
    if (typeof p === "number") s += `[${p}]`;
    else if (!PLAIN_KEY.test(p)) s += `[${JSON.stringify(p)}]`;
    else s += s === "" ? p : `.${p}`;
  }
  return s;
}

/** The issues with `prefix` put in front of each path (re-rooting a section's issues in its document). */
export function prefixIssues(prefix: FieldPath, issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message }));
}

/** `path: message`, or just the message at the root. */
function formatIssueAt(i: FieldIssue): string {
  const field = formatPath(i.path);
  return field === "" ? i.message : `${field}: ${i.message}`;
}
