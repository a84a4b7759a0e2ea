/**
 * zod issues in words a user understands, instead of zod's own ("Invalid input: expected string,
 * received undefined" → "is required"). Used as a per-parse error map, so messages a schema sets
 * itself (`.refine(…, "message")`) are kept. Any layer may use it: it imports only zod and the
 * FieldIssue leaf.
 */
import type { z } from "zod";
import { closestName } from "./closest-name.ts";
import type { FieldIssue } from "./field-issue.ts";

/** `schema.safeParse(value, { error: readableErrorMap })`: a message for every zod issue code. */
export const readableErrorMap: z.core.$ZodErrorMap = (issue) => readableMessage(issue);

/** The issues of a failed parse as FieldIssues (paths without symbols), under `prefix`. */
export function fieldIssuesOf(error: z.ZodError, prefix: readonly (string | number)[] = []): FieldIssue[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path.filter((p): p is string | number => typeof p !== "symbol")],
    message: i.message,
  }));
}

/** A value as a user wrote it, for "(found …)": strings quoted and cut at 40 characters. */
export function describeValue(v: unknown): string {
  if (v === null) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return "a date";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return String(v);
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  array: "a list",
  tuple: "a list",
  set: "a list",
  date: "a date",
  null: "nothing",
};

function typeName(t: string): string {
  return TYPE_NAMES[t] ?? t;
}

function quoted(v: unknown): string {
  return typeof v === "string" ? `'${v}'` : String(v);
}

function readableMessage(issue: z.core.$ZodRawIssue): string {
  const input = issue.input;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return "is required";
      if (input === null) return `is empty (expected ${typeName(issue.expected)})`;
      return `must be ${typeName(issue.expected)} (found ${describeValue(input)})`;
    case "invalid_value": {
      const values = issue.values;
      if (values.length === 1) return `must be ${quoted(values[0])} (found ${describeValue(input)})`;
      const near =
        typeof input === "string"
          ? closestName(
              input,
              values.filter((x): x is string => typeof x === "string"),
            )
          : undefined;
      return (
        `must be one of ${values.map(quoted).join(", ")} (found ${describeValue(input)}` +
        `${near ? ` — did you mean '${near}'?` : ""})`
      );
    }
    case "too_big":
      return sizeMessage("at most", issue.origin, Number(issue.maximum), issue.inclusive !== false, input);
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
      if ((issue.origin === "array" || issue.origin === "set") && Number(issue.minimum) === 1)
        return "needs at least one entry";
      return sizeMessage("at least", issue.origin, Number(issue.minimum), issue.inclusive !== false, input);
    case "invalid_format":
      return issue.format === "regex"
        ? `must match ${issue.pattern ?? "the pattern"} (found ${describeValue(input)})`
        : `must be a valid ${issue.format} (found ${describeValue(input)})`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)} (found ${describeValue(input)})`;
    case "unrecognized_keys":
      return `has unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map(quoted).join(", ")}`;
    case "invalid_union": {
      const expected = issue.errors
        .flat()
        .filter((e) => e.code === "invalid_type" && e.path.length === 0)
        .map((e) => typeName((e as { expected: string }).expected));
      return expected.length === issue.errors.length
        ? `must be ${[...new Set(expected)].join(" or ")} (found ${describeValue(input)})`
        : `does not match any allowed form (found ${describeValue(input)})`;
    }
    case "invalid_key":
      return `has an invalid key ${describeValue(input)}`;
    case "invalid_element":
      return "has an invalid entry";
    default:
      return "is not valid";
  }
}

function sizeMessage(bound: string, origin: string, n: number, inclusive: boolean, input: unknown): string {
  const exclusive = !inclusive;
  switch (origin) {
    case "string":
      return `must be ${bound} ${exclusive ? (bound === "at most" ? n - 1 : n + 1) : n} characters long (found ${String((input as string).length)})`;
    case "array":
    case "set":
      return `must have ${bound} ${exclusive ? (bound === "at most" ? n - 1 : n + 1) : n} entries (found ${String((input as unknown[]).length)})`;
    default:
      return `must be ${exclusive ? (bound === "at most" ? "less than" : "more than") : bound} ${n} (found ${describeValue(input)})`;
  }
}
