/**
 * The one located configuration error users see: every problem found, each with where it is
 * (file and line, or the API-server object), the object, the field and the reason. Layers below
 * config/ throw FieldIssueError (`field-issue.ts`); config/ locates those issues into ConfigIssues.
 */
import type { ObjectRef } from "./origin.ts";

/** One problem (or, in a warning list, one finding) in a manifest, the endpoints file or an API object. */
export interface ConfigIssue {
  /** The file; "" for an object from an API server (then `ref` names it). */
  readonly file: string;
  /** 1-based; 0 when the problem is not tied to a line (a missing file, an API-server object). */
  readonly line: number;
  /** The object on the API server, when it came from one. */
  readonly ref?: ObjectRef;
  /** Dotted path inside the document, e.g. `spec.targetModels[1].weight`; "" for the document. */
  readonly field: string;
  /** What the document is, e.g. `InferenceModel default/qwen-model`; "" when unknown. */
  readonly object: string;
  /** Written for a user; a reason starting "is "/"must " reads on from the field name. */
  readonly reason: string;
}

const PREDICATE = /^(?:is|must|needs|has|should) /;

/**
 * `file:line: Kind ns/name: field: reason`, one issue per line; `field is required` when the reason
 * is a predicate. API objects read `Kind ns/name (resourceVersion N): field: reason`.
 */
export function formatIssue(i: ConfigIssue): string {
  const where = i.ref
    ? `${i.ref.kind} ${i.ref.namespace}/${i.ref.name} (resourceVersion ${i.ref.resourceVersion})`
    : i.line > 0
      ? `${i.file}:${i.line}`
      : i.file;
  const field =
    i.field === "" ? "" : PREDICATE.test(i.reason) ? `${i.field} ${i.reason}` : `${i.field}: ${i.reason}`;
  return [where, i.ref ? "" : i.object, field === "" ? i.reason : field].filter((s) => s !== "").join(": ");
}

/**
 * Thrown when a configuration cannot be used; `issues` lists every problem found, `warnings` the
 * findings that did not stop it (shown with the errors: a warning often explains one).
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], warnings: readonly ConfigIssue[] = []) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  ${formatIssue(i)}`).join("\n") +
        (warnings.length > 0 ? `\nwarnings:\n${warnings.map((w) => `  ${formatIssue(w)}`).join("\n")}` : ""),
    );
    this.name = "ConfigError";
    this.issues = issues;
    this.warnings = warnings;
  }
}
