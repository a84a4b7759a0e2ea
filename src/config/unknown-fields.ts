/**
 * Fields of a value that its zod schema does not declare, each with a hint: the closest declared
 * name (a typo) or where a field of that name is declared nearby (a misindented line). zod's
 * objects strip unknown keys silently; this walks the schema beside the value to find them.
 * Loose objects, `z.unknown()` and record keys are open: nothing under them is unknown.
 */
import type { z } from "zod";
import { closestName } from "./closest-name.ts";
import type { FieldPath } from "./field-issue.ts";
import { formatPath } from "./field-issue.ts";

type Schema = z.core.$ZodType;

/** One undeclared field; `typoOf` is set when the name is a near miss of a declared sibling. */
export interface UnknownField {
  readonly path: FieldPath;
  /** "did you mean 'criticality'?", or where a field of that name is declared; "" when nothing is near. */
  readonly hint: string;
  readonly typoOf?: string;
}

/** `is not a known field` plus the hint, and `then` (e.g. "and is ignored") in between. */
export function unknownFieldMessage(u: UnknownField, then = ""): string {
  return `is not a known field${then === "" ? "" : ` ${then}`}${u.hint === "" ? "" : ` (${u.hint})`}`;
}

interface ObjectInfo {
  readonly shape: Readonly<Record<string, Schema>>;
  /** Extra keys are allowed (loose object). */
  readonly open: boolean;
}

/** The schema without optional/default/nullable/readonly/catch/pipe wrappers. */
function unwrap(s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 16; i++) {
    const def = cur._zod.def as { type: string; innerType?: Schema; in?: Schema; getter?: () => Schema };
    if (def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else if (def.type === "lazy" && def.getter) cur = def.getter();
    else break;
  }
  return cur;
}

function objectInfo(s: Schema): ObjectInfo | undefined {
  const def = s._zod.def as { type: string; shape?: Record<string, Schema>; catchall?: Schema };
  if (def.type !== "object" || !def.shape) return undefined;
  const catchall = def.catchall?._zod.def.type;
  return { shape: def.shape, open: catchall !== undefined && catchall !== "never" };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Every field of `value` that `schema` does not declare. `alwaysKnown` keys are accepted at the
 * root (e.g. `status`, which API servers add and the gateway does not read).
 */
export function unknownFields(
  schema: Schema,
  value: unknown,
  alwaysKnown: readonly string[] = [],
): UnknownField[] {
  const out: UnknownField[] = [];
  walk(unwrap(schema), value, [], [], out, new Set(alwaysKnown));
  return out;
}

function walk(
  s: Schema,
  value: unknown,
  path: FieldPath,
  ancestors: readonly { path: FieldPath; info: ObjectInfo }[],
  out: UnknownField[],
  rootKnown: ReadonlySet<string>,
): void {
  const def = s._zod.def as {
    type: string;
    element?: Schema;
    valueType?: Schema;
    options?: readonly Schema[];
  };
  if (def.type === "array" && def.element && Array.isArray(value)) {
    const element = unwrap(def.element);
    value.forEach((v, i) => {
      walk(element, v, [...path, i], ancestors, out, rootKnown);
    });
    return;
  }
  if (def.type === "record" && def.valueType && isPlainObject(value)) {
    const vt = unwrap(def.valueType);
    for (const [k, v] of Object.entries(value)) walk(vt, v, [...path, k], ancestors, out, rootKnown);
    return;
  }
  if (def.type === "union" && def.options && isPlainObject(value)) {
    // The object option that declares most of the value's keys.
    let best: Schema | undefined;
    let bestScore = -1;
    for (const o of def.options) {
      const info = objectInfo(unwrap(o));
      if (!info) continue;
      const score = Object.keys(value).filter((k) => k in info.shape).length;
      if (score > bestScore) [best, bestScore] = [unwrap(o), score];
    }
    if (best) walk(best, value, path, ancestors, out, rootKnown);
    return;
  }
  const info = objectInfo(s);
  if (!info || !isPlainObject(value)) return;
  const here = [...ancestors, { path, info }];
  for (const [k, v] of Object.entries(value)) {
    const child = info.shape[k];
    if (child) {
      walk(unwrap(child), v, [...path, k], here, out, rootKnown);
      continue;
    }
    if (info.open || (path.length === 0 && rootKnown.has(k))) continue;
    out.push(describeUnknown(k, [...path, k], info, ancestors));
  }
}

function describeUnknown(
  key: string,
  path: FieldPath,
  info: ObjectInfo,
  ancestors: readonly { path: FieldPath; info: ObjectInfo }[],
): UnknownField {
  const typo = closestName(key, Object.keys(info.shape));
  if (typo) return { path, hint: `did you mean '${typo}'?`, typoOf: typo };
  const parentPath = path.slice(0, -1);
  const below = declaredBelow(info, key, parentPath);
  const above = [...ancestors]
    .reverse()
    .find((a) => key in a.info.shape)
    ?.path.concat(key);
  const elsewhere = below ?? (above ? formatPath(above) : undefined);
  return { path, hint: elsewhere ? `${elsewhere} is one — is the line indented wrongly?` : "" };
}

/** `spec.targetModels[].weight` when a field named `key` is declared under `info` (3 levels at most). */
function declaredBelow(info: ObjectInfo, key: string, at: FieldPath): string | undefined {
  let level: { label: string; s: Schema }[] = Object.entries(info.shape).map(([k, s]) => ({
    label: joinLabel(formatPath(at), k),
    s: unwrap(s),
  }));
  for (let depth = 0; depth < 3 && level.length > 0; depth++) {
    const next: { label: string; s: Schema }[] = [];
    for (const { label, s } of level) {
      const def = s._zod.def as { type: string; element?: Schema };
      const inner = def.type === "array" && def.element ? unwrap(def.element) : s;
      const innerLabel = inner === s ? label : `${label}[]`;
      const o = objectInfo(inner);
      if (!o) continue;
      if (key in o.shape) return joinLabel(innerLabel, key);
      for (const [k, c] of Object.entries(o.shape))
        next.push({ label: joinLabel(innerLabel, k), s: unwrap(c) });
    }
    level = next;
  }
  return undefined;
}

function joinLabel(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}
