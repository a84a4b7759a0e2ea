/** zod's validation issues as FieldIssues: paths re-rooted, unknown keys named the way users read them. */
import type { z } from "zod";
import type { FieldIssue, FieldPath } from "../config/field-issue.ts";

/** Every issue of a failed `safeParse`, its path put under `prefix` (the parsed value's place in its document). */
export function fieldIssuesFromZod(prefix: FieldPath, issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  return issues.map((i) => {
    const path = [...prefix, ...i.path.filter((p): p is string | number => typeof p !== "symbol")];
    if (i.code === "unrecognized_keys") {
      const keys = i.keys.map((k) => `"${k}"`).join(", ");
      return { path, message: `unknown field${i.keys.length > 1 ? "s" : ""} ${keys}` };
    }
    return { path, message: i.message };
  });
}
