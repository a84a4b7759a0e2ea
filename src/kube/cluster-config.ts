/**
 * The configuration objects of a cluster → one ConfigSnapshot of the valid ones. Each object is
 * decoded as a manifest would be (`decodeObject`, cached per uid and resourceVersion); objects
 * that do not decode, and objects that cross-object checks reject (a poolRef to no pool, a second
 * pool of the same name), are left out and reported with their problems, and the rest is
 * assembled again, so one bad object never stops the others from being applied.
 */
import { assembleConfig } from "../config/build-config.ts";
import { type ConfigIssue, formatIssue } from "../config/config-error.ts";
import { type DecodedObject, type DecodeResult, decodeObject } from "../config/decode-object.ts";
import type { ObjectRef } from "../config/origin.ts";
import type { ConfigSnapshot, IgnoredDocument } from "../datastore/config-snapshot.ts";

/** An object as the API server sends it (apiVersion and kind filled in by the caller when a list omits them). */
export interface ApiObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    readonly creationTimestamp?: unknown;
  };
}

/** One object and what was found in it. */
export interface ObjectVerdict {
  readonly ref: ObjectRef;
  /** `Kind namespace/name`. */
  readonly label: string;
  readonly generation: number | undefined;
  /** Non-empty: the object is not applied. */
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

export interface ClusterConfig {
  readonly config: ConfigSnapshot;
  /** Changes exactly when the applied objects' content (spec, labels, annotations) changes. */
  readonly signature: string;
  /** Every object of a kind the gateway reads, with its verdict. */
  readonly verdicts: readonly ObjectVerdict[];
  /** Objects of kinds the gateway watches but does not act on (none today; reported once). */
  readonly ignored: readonly IgnoredDocument[];
}

interface CacheEntry {
  readonly resourceVersion: string;
  readonly result: DecodeResult;
  /** The decoded content without server bookkeeping, for the signature. */
  readonly content: string;
}

/** Decodes API objects, remembering the result per uid while the resourceVersion stays. */
export class ObjectDecoder {
  readonly #cache = new Map<string, CacheEntry>();

  decode(object: ApiObject): { ref: ObjectRef; result: DecodeResult; content: string } {
    const ref = refOf(object);
    const hit = this.#cache.get(ref.uid);
    if (hit && hit.resourceVersion === ref.resourceVersion && ref.resourceVersion !== "")
      return { ref, result: hit.result, content: hit.content };
    const result = decodeObject({ object, origin: { ref } });
    const content = result.status === "valid" ? contentOf(result.decoded) : "";
    if (ref.uid !== "") this.#cache.set(ref.uid, { resourceVersion: ref.resourceVersion, result, content });
    return { ref, result, content };
  }

  /** Drops cached results of objects that are gone. */
  retain(liveUids: ReadonlySet<string>): void {
    for (const uid of this.#cache.keys()) if (!liveUids.has(uid)) this.#cache.delete(uid);
  }
}

/** The ref an API object is reported on. */
export function refOf(object: ApiObject): ObjectRef {
  const m = object.metadata ?? {};
  return {
    apiVersion: object.apiVersion ?? "",
    kind: object.kind ?? "",
    namespace: m.namespace ?? "",
    name: m.name ?? "",
    uid: m.uid ?? "",
    resourceVersion: m.resourceVersion ?? "",
  };
}

function contentOf(d: DecodedObject): string {
  const doc = d.doc as { metadata: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...metadata } = doc.metadata;
  return JSON.stringify({ ...doc, metadata });
}

/** Oldest first (creationTimestamp), then namespace/name: the "oldest wins" order files get from position. */
function byAge(a: ApiObject, b: ApiObject): number {
  const ta = String(a.metadata?.creationTimestamp ?? "");
  const tb = String(b.metadata?.creationTimestamp ?? "");
  const da = Date.parse(ta);
  const db = Date.parse(tb);
  if (!Number.isNaN(da) && !Number.isNaN(db) && da !== db) return da - db;
  const ka = `${a.metadata?.namespace ?? ""}/${a.metadata?.name ?? ""}`;
  const kb = `${b.metadata?.namespace ?? ""}/${b.metadata?.name ?? ""}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export interface ClusterConfigOptions {
  /** Port of the implicit listener when no Gateway exists. */
  readonly defaultPort: number;
  /**
   * Serve only Gateways of this GatewayClass (`--gateway-class`): the others are left out without
   * a verdict, and references to them raise no error.
   */
  readonly gatewayClass?: string;
  /** An EndpointPickerConfig checked already (from a file or a ConfigMap: `picker-config-feed.ts`). */
  readonly pickerConfig?: DecodedObject;
}

/** Decodes and assembles `objects`; never throws. */
export function clusterConfig(
  objects: readonly ApiObject[],
  decoder: ObjectDecoder,
  options: ClusterConfigOptions,
): ClusterConfig {
  const { defaultPort, gatewayClass, pickerConfig } = options;
  const invalid = new Set<string>();
  const foreign = (o: ApiObject) =>
    gatewayClass !== undefined &&
    o.kind === "Gateway" &&
    (o as { spec?: { gatewayClassName?: unknown } }).spec?.gatewayClassName !== gatewayClass;
  for (const o of objects)
    if (foreign(o)) invalid.add(`Gateway ${o.metadata?.namespace ?? "default"}/${o.metadata?.name}`);
  const sorted = objects.filter((o) => !foreign(o)).sort(byAge);
  const errors = new Map<string, ConfigIssue[]>();
  const warnings = new Map<string, ConfigIssue[]>();
  const refs = new Map<string, { ref: ObjectRef; label: string; generation: number | undefined }>();
  const push = (m: Map<string, ConfigIssue[]>, uid: string, issues: readonly ConfigIssue[]) => {
    if (issues.length > 0) m.set(uid, [...(m.get(uid) ?? []), ...issues]);
  };
  let accepted: { decoded: DecodedObject; uid: string; content: string }[] = pickerConfig
    ? [{ decoded: pickerConfig, uid: "", content: JSON.stringify(pickerConfig.doc) }]
    : [];
  const ignored: IgnoredDocument[] = [];
  for (const object of sorted) {
    const { ref, result, content } = decoder.decode(object);
    const label = result.status === "valid" ? result.decoded.label : (labelOf(ref) ?? "");
    if (result.status !== "skipped")
      refs.set(ref.uid, { ref, label, generation: object.metadata?.generation });
    push(warnings, ref.uid, result.warnings);
    if (result.status === "valid") accepted.push({ decoded: result.decoded, uid: ref.uid, content });
    else if (result.status === "skipped") ignored.push(result.ignored);
    else {
      push(errors, ref.uid, result.errors);
      if (result.label !== undefined) invalid.add(result.label);
    }
  }
  // Leave out what cross-object checks reject, until nothing is rejected.
  for (;;) {
    const assembled = assembleConfig(
      accepted.map((a) => a.decoded),
      { defaultPort },
      { invalid },
    );
    const rejected = new Set<string>();
    for (const issue of assembled.errors) {
      const uid = issue.ref?.uid;
      if (uid === undefined || !accepted.some((a) => a.uid === uid)) continue;
      rejected.add(uid);
      push(errors, uid, [issue]);
    }
    if (rejected.size === 0) {
      for (const w of assembled.warnings) if (w.ref) push(warnings, w.ref.uid, [w]);
      const verdicts = [...refs.entries()].map(([uid, r]) => ({
        ...r,
        errors: errors.get(uid) ?? [],
        warnings: warnings.get(uid) ?? [],
      }));
      const signature = accepted
        .map((a) => a.content)
        .sort()
        .join("\n");
      return {
        config: { ...assembled.config, warnings: assembled.warnings.map(formatIssue) },
        signature,
        verdicts,
        ignored,
      };
    }
    accepted = accepted.filter((a) => !rejected.has(a.uid));
    for (const uid of rejected) {
      const label = refs.get(uid)?.label;
      if (label && !accepted.some((a) => a.decoded.label === label)) invalid.add(label);
    }
  }
}

function labelOf(ref: ObjectRef): string | undefined {
  if (ref.kind === "" || ref.name === "") return undefined;
  return ref.namespace === "" ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}
