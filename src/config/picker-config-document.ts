/**
 * One EndpointPickerConfig given on its own (upstream's `--config-file`, or a ConfigMap key): the
 * text must hold exactly one EndpointPickerConfig document, which gets the manifest checks
 * (schema, unknown fields) and the picker checks (plugins, profiles, flow control). Issues are
 * located as `NAME:LINE`, where NAME says where the text came from.
 */
import { pickerConfigIssues } from "../plugins/picker-config-issues.ts";
import type { ConfigIssue } from "./config-error.ts";
import { type DecodedObject, decodeObject } from "./decode-object.ts";
import { issueAt } from "./origin.ts";
import { parseFile } from "./read-documents.ts";

/** The outcome: `decoded` only when there are no `errors`. */
export interface PickerConfigDocument {
  readonly decoded?: DecodedObject;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

const KIND = "EndpointPickerConfig";

/** Parses and checks `text`, read from `name` (a path, or e.g. `ConfigMap ns/cm key x.yaml`); never throws. */
export function readPickerConfigDocument(name: string, text: string): PickerConfigDocument {
  const parsed = parseFile(name, text);
  if (parsed.issues.length > 0) return { errors: parsed.issues, warnings: [] };
  const [first, ...rest] = parsed.objects;
  const whole = (reason: string): PickerConfigDocument => ({
    errors: [{ file: name, line: 0, field: "", object: "", reason }],
    warnings: [],
  });
  if (!first) return whole(`holds no ${KIND} document`);
  if (rest.length > 0) return whole(`must hold one ${KIND} document (found ${parsed.objects.length})`);
  const result = decodeObject(first);
  if (result.status === "invalid") return { errors: result.errors, warnings: result.warnings };
  if (result.status === "skipped" || result.decoded.doc.kind !== KIND) {
    const kind = result.status === "skipped" ? result.ignored.kind : result.decoded.doc.kind;
    return {
      errors: [issueAt(first.origin, ["kind"], "", `must be ${KIND} (found '${kind}')`)],
      warnings: result.warnings,
    };
  }
  const { decoded } = result;
  const errors = pickerConfigIssues([decoded.doc as unknown as Record<string, unknown>]).map(({ issue }) =>
    issueAt(first.origin, [...issue.path], decoded.label, issue.message),
  );
  return errors.length > 0
    ? { errors, warnings: result.warnings }
    : { decoded, errors, warnings: result.warnings };
}
