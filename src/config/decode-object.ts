/**
 * Decodes one configuration object, from a file or from an API server: kind and apiVersion, the
 * kind's schema (with readable messages), unknown fields (warnings naming the closest known name
 * or where a misindented field belongs) and the pool annotations the gateway interprets. Every
 * source calls this per object, so all get the same validation and the same precise errors.
 */
import type { KnownDoc } from "../api/resources.ts";
import { knownKindsOfGroup, readKinds, schemaFor, supportedApiVersions } from "../api/resources.ts";
import type { IgnoredDocument } from "../datastore/config-snapshot.ts";
import { closestName } from "./closest-name.ts";
import type { ConfigIssue } from "./config-error.ts";
import type { FieldPath } from "./field-issue.ts";
import { issueAt, type LocatedObject, type Origin, positionOf } from "./origin.ts";
import { parseObject } from "./parse-object.ts";
import { poolAnnotationWarnings } from "./pool-annotations.ts";
import { unknownFieldMessage } from "./unknown-fields.ts";

/** A valid object of a kind the gateway reads, with where it came from. */
export interface DecodedObject {
  readonly doc: KnownDoc;
  readonly origin: Origin;
  /** `Kind namespace/name`, as issues name the object. */
  readonly label: string;
}

/** The outcome for one object; `warnings` never stop it from being used. */
export type DecodeResult =
  | { readonly status: "valid"; readonly decoded: DecodedObject; readonly warnings: readonly ConfigIssue[] }
  | {
      readonly status: "skipped";
      readonly ignored: IgnoredDocument;
      readonly warnings: readonly ConfigIssue[];
    }
  | {
      readonly status: "invalid";
      readonly errors: readonly ConfigIssue[];
      readonly warnings: readonly ConfigIssue[];
      /** `Kind namespace/name` when readable, so references to it raise no follow-on errors. */
      readonly label?: string;
    };

/** Kinds whose objects are named without a namespace (a scheduler config file, not a namespaced object). */
const UNNAMESPACED = ["EndpointPickerConfig"];

/** Top-level keys every object may carry besides its schema's (API servers add `status`). */
const ALWAYS_KNOWN = ["status"];

/** Decodes `{object, origin}`; never throws. */
export function decodeObject({ object, origin }: LocatedObject): DecodeResult {
  const at = (path: FieldPath, label: string, reason: string) => issueAt(origin, path, label, reason);
  if (typeof object !== "object" || object === null || Array.isArray(object))
    return { status: "invalid", errors: [at([], "", "a manifest must be a mapping")], warnings: [] };
  const v = object as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const name = typeof v.metadata?.name === "string" ? v.metadata.name : "";
  const namespace = typeof v.metadata?.namespace === "string" ? v.metadata.namespace : "default";
  const labelOf = (kind: string) =>
    name === "" ? kind : UNNAMESPACED.includes(kind) ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
  if (typeof v.kind !== "string" || typeof v.apiVersion !== "string") {
    const field = typeof v.kind !== "string" ? "kind" : "apiVersion";
    return { status: "invalid", errors: [at([field], "", "is required")], warnings: [] };
  }
  const { kind, apiVersion } = v;
  const schema = schemaFor(apiVersion, kind);
  if (!schema) return unread(apiVersion, kind, labelOf, at, origin, name);

  const label = labelOf(kind);
  const parsed = parseObject(schema, object, ALWAYS_KNOWN);
  const errors = parsed.errors.map((e) => issueAt(origin, e.path, label, e.message, e.at));
  const warnings = parsed.unknown.map((u) => at(u.path, label, unknownFieldMessage(u, "and is ignored")));
  if (parsed.data !== undefined && kind === "InferencePool") {
    const annotations = (parsed.data as { metadata: { annotations: Record<string, string> } }).metadata
      .annotations;
    for (const w of poolAnnotationWarnings(annotations))
      warnings.push(at(["metadata", "annotations", w.key], label, w.message));
  }
  if (errors.length > 0) return { status: "invalid", errors, warnings, label };
  return { status: "valid", decoded: { doc: parsed.data as KnownDoc, origin, label }, warnings };
}

/** A kind the gateway does not read: skipped, unless its group is known and has no such kind. */
function unread(
  apiVersion: string,
  kind: string,
  labelOf: (kind: string) => string,
  at: (path: FieldPath, label: string, reason: string) => ConfigIssue,
  origin: Origin,
  name: string,
): DecodeResult {
  const versions = supportedApiVersions(kind);
  if (versions.length > 0) {
    // Same group, other version: name that group's version; else a near miss of any.
    const group = apiVersion.slice(0, apiVersion.indexOf("/") + 1);
    const sameGroup = versions.filter((x) => group !== "" && x.startsWith(group));
    const near = sameGroup.length > 0 ? sameGroup.at(-1) : closestName(apiVersion, versions);
    return {
      status: "invalid",
      errors: [
        at(
          ["apiVersion"],
          labelOf(kind),
          `'${apiVersion}' is not a supported apiVersion of ${kind} (supported: ${versions.join(", ")}` +
            `${near ? ` — did you mean '${near}'?` : ""})`,
        ),
      ],
      warnings: [],
      label: labelOf(kind),
    };
  }
  const groupKinds = knownKindsOfGroup(apiVersion);
  if (groupKinds && !groupKinds.includes(kind)) {
    const group = apiVersion.slice(0, apiVersion.indexOf("/"));
    const near = closestName(kind, [...new Set([...readKinds(), ...groupKinds])]);
    return {
      status: "invalid",
      errors: [
        at(
          ["kind"],
          labelOf(kind),
          `'${kind}' is not a kind of ${group}${near ? ` (did you mean '${near}'?)` : ""}`,
        ),
      ],
      warnings: [],
      ...(near ? { label: labelOf(near) } : {}),
    };
  }
  return { status: "skipped", ignored: { apiVersion, kind, name, source: positionOf(origin) }, warnings: [] };
}
