/**
 * One object against its zod schema, as every config/ reader checks it: readable messages,
 * undeclared fields, and a missing required field merged with the unknown field that explains it
 * (a misspelling beside it, or the same name misplaced elsewhere in the object).
 */
import type { z } from "zod";
import { type FieldIssue, type FieldPath, formatPath } from "./field-issue.ts";
import { type UnknownField, unknownFields } from "./unknown-fields.ts";
import { fieldIssuesOf, readableErrorMap } from "./zod-issues.ts";

/** A problem, and the field to point at (the typo when one explains it; else `path`). */
export interface ObjectIssue extends FieldIssue {
  readonly at: FieldPath;
}

export interface ParsedObject<T> {
  /** Set when the object is valid. */
  readonly data?: T;
  readonly errors: readonly ObjectIssue[];
  /** Undeclared fields not already named by an error. */
  readonly unknown: readonly UnknownField[];
}

/** Checks `object`; `alwaysKnown` root keys are never reported as unknown. Never throws. */
export function parseObject<T>(
  schema: z.ZodType<T>,
  object: unknown,
  alwaysKnown: readonly string[] = [],
): ParsedObject<T> {
  const unknown = unknownFields(schema, object, alwaysKnown);
  const parsed = schema.safeParse(object, { error: readableErrorMap });
  if (parsed.success) return { data: parsed.data, errors: [], unknown };
  const merged = new Set<UnknownField>();
  const errors = fieldIssuesOf(parsed.error).map((issue): ObjectIssue => {
    const missing = issue.message === "is required" ? issue.path.at(-1) : undefined;
    if (missing === undefined) return { ...issue, at: issue.path };
    const parent = issue.path.slice(0, -1);
    const typo = unknown.find((u) => u.typoOf === missing && samePath(u.path.slice(0, -1), parent));
    const found = typo ?? unknown.find((u) => u.path.at(-1) === missing);
    if (!found) return { ...issue, at: issue.path };
    merged.add(found);
    const hint = typo
      ? `found '${String(found.path.at(-1))}' — a typo?`
      : `found at ${formatPath(found.path)} — is the line indented wrongly?`;
    return { path: issue.path, message: `is required (${hint})`, at: found.path };
  });
  return { errors, unknown: unknown.filter((u) => !merged.has(u)) };
}

function samePath(a: FieldPath, b: FieldPath): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
