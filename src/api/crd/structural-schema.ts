/**
 * zod schema → the OpenAPI v3 "structural schema" a CustomResourceDefinition carries. zod 4's
 * `z.toJSONSchema` (target openapi-3.0, input side, so fields with defaults are optional) does most
 * of it; this adds what Kubernetes needs and rejects what it cannot take, so that a schema change
 * that would make an invalid CRD fails the generator rather than the API server.
 */
import { z } from "zod";

/** A JSON Schema node as z.toJSONSchema emits it. */
export type SchemaNode = { [key: string]: unknown };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Keys a structural schema may not carry (or that z.toJSONSchema emits only for shapes we do not use). */
const FORBIDDEN = [
  "$ref",
  "$defs",
  "definitions",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "const",
  "propertyNames",
];

/**
 * The structural schema of `schema`. Used by the CRD generator (`npm run gen:crds`); throws naming
 * the path of the first construct Kubernetes does not accept (unions, `const`, closed objects...).
 */
export function structuralSchema(schema: z.ZodType): SchemaNode {
  const json = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" });
  return adjust(json as SchemaNode, "");
}

function adjust(node: SchemaNode, path: string): SchemaNode {
  const at = path || "<root>";
  for (const key of FORBIDDEN) {
    if (key in node)
      throw new Error(`${at}: "${key}" has no structural-schema form; restructure the zod schema`);
  }
  if (typeof node.type !== "string") throw new Error(`${at}: every node needs a single "type"`);
  if (node.additionalProperties === false) {
    throw new Error(
      `${at}: closed objects (z.strictObject) cannot be expressed; the API server prunes instead`,
    );
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "id") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([name, child]) => [
          name,
          adjust(child, `${path}.${name}`),
        ]),
      );
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = adjust(value as SchemaNode, `${path}${key === "items" ? "[]" : ".*"}`);
    } else {
      out[key] = value;
    }
  }
  if (out.type === "integer") integerBounds(out);
  // zod's date-time regex restates the format (and uses syntax Go's RE2 may not): the format suffices.
  if (out.format === "date-time") delete out.pattern;
  return out;
}

/**
 * zod bounds every integer (safe-integer range, or int32 for z.int32()); Kubernetes wants no bound
 * where there is none, and `format: int32` where the range fits, as controller-gen writes for int32.
 */
function integerBounds(node: SchemaNode): void {
  if (node.minimum === -Number.MAX_SAFE_INTEGER) delete node.minimum;
  if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
  const min = node.minimum as number | undefined;
  const max = node.maximum as number | undefined;
  if (
    node.format === undefined &&
    min !== undefined &&
    max !== undefined &&
    min >= INT32_MIN &&
    max <= INT32_MAX
  )
    node.format = "int32";
  if (node.format === "int32") {
    if (min === INT32_MIN) delete node.minimum;
    if (max === INT32_MAX) delete node.maximum;
  }
}
