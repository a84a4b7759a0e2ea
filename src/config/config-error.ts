/** Configuration problems with file, line, field and reason; thrown by config/ loaders. */

/** One problem found in a manifest or endpoints file. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem is not tied to a line (e.g. a missing file). */
  readonly line: number;
  /** Dotted path inside the document, e.g. `spec.targetModels[1].weight`; "" for the document. */
  readonly field: string;
  /** What the document is, e.g. `InferenceModel default/qwen-model`; "" when unknown. */
  readonly object: string;
  readonly reason: string;
}

/** `file:line: Kind ns/name: field: reason`, one issue per line. */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}` : i.file;
  const what = [i.object, i.field].filter((s) => s !== "").join(": ");
  return what ? `${where}: ${what}: ${i.reason}` : `${where}: ${i.reason}`;
}

/** Thrown when a configuration cannot be used; `issues` lists every problem found. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  ${formatIssue(i)}`).join("\n"),
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}
