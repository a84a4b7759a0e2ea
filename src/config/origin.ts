/**
 * Where one configuration object came from: a document in a file, or an object on a Kubernetes
 * API server. Decoding takes `{object, origin}`, so both get the same validation and the same
 * precise errors; only the way an issue is located differs (file and line, or the object's ref).
 */
import type { ConfigIssue } from "./config-error.ts";
import type { FieldPath } from "./field-issue.ts";
import { formatPath } from "./field-issue.ts";

/** An object as an API server names it: enough to write an Event or a status condition on it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
}

/** A document in a file; `lineOf(path)` is the 1-based line of that field (or of its nearest ancestor). */
export interface FileOrigin {
  readonly file: string;
  readonly lineOf: (path: FieldPath) => number;
}

/** An object read from an API server. */
export interface ApiOrigin {
  readonly ref: ObjectRef;
}

export type Origin = FileOrigin | ApiOrigin;

/** One object to decode: plain data (what JSON or YAML gives) and where it came from. */
export interface LocatedObject {
  readonly object: unknown;
  readonly origin: Origin;
}

/** File and line of an origin at a field path, as a SourcePosition (line 0 for API objects). */
export function positionOf(origin: Origin, path: FieldPath = []): { file: string; line: number } {
  return "ref" in origin ? { file: "", line: 0 } : { file: origin.file, line: origin.lineOf(path) };
}

/**
 * A ConfigIssue about the field at `path` of the object from `origin` (`object` is e.g.
 * `InferenceModel default/m`), at the line of `pointAt` (default `path`).
 */
export function issueAt(
  origin: Origin,
  path: FieldPath,
  object: string,
  reason: string,
  pointAt: FieldPath = path,
): ConfigIssue {
  return {
    ...positionOf(origin, pointAt),
    ...("ref" in origin ? { ref: origin.ref } : {}),
    field: formatPath(path),
    object,
    reason,
  };
}
