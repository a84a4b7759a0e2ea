/** zod's validation issues as FieldIssues: paths re-rooted, unknown keys named the way users read them. */
import type { z } from "zod";
import { closestName } from "../config/closest-name.ts";
import type { FieldIssue, FieldPath } from "../config/field-issue.ts";

/**
 * Every issue of a failed `safeParse`, its path put under `prefix` (the parsed value's place in its
 * document). An unknown key becomes one issue at the key itself (so it carries the key's line);
 * given the `schema` that was parsed, it names the closest known field of that object.
 */
export function fieldIssuesFromZod(
  prefix: FieldPath,
  issues: readonly z.core.$ZodIssue[],
  schema?: z.ZodType,
): FieldIssue[] {
  return issues.flatMap((i) => {
    const path = [...prefix, ...i.path.filter((p): p is string | number => typeof p !== "symbol")];
    if (i.code !== "unrecognized_keys") return [{ path, message: i.message }];
    const known = schema ? keysAt(schema, i.path) : undefined;
    return i.keys.map((key) => {
      const near = known ? closestName(key, known) : undefined;
      return {
        path: [...path, key],
        message: `is not a known field${near === undefined ? "" : ` (did you mean '${near}'?)`}`,
      };
    });
  });
}

/** Internals of a zod v4 schema this module walks (objects, arrays, optional/default/pipe wrappers). */
interface SchemaDef {
  readonly _zod?: {
    readonly def?: {
      readonly shape?: Record<string, SchemaDef>;
      readonly element?: SchemaDef;
      readonly innerType?: SchemaDef;
      readonly in?: SchemaDef;
    };
  };
}

/** The field names of the object schema at `path` inside `schema`, or undefined. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s: SchemaDef | undefined = unwrap(schema as SchemaDef);
  for (const seg of path) {
    const def = s?._zod?.def;
    s = unwrap(
      typeof seg === "number" ? def?.element : typeof seg === "string" ? def?.shape?.[seg] : undefined,
    );
  }
  const shape = s?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
}

function unwrap(s: SchemaDef | undefined): SchemaDef | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const def = cur._zod?.def;
    const inner = def?.innerType ?? def?.in;
    if (!inner) break;
    cur = inner;
  }
  return cur;
}
