/**
 * Envoy metadata the endpoint-picker protocol uses: the fallback list we write into dynamic metadata
 * (`envoy.lb` → destination key → "ip:port,ip:port"), the subset hint Envoy forwards in filter
 * metadata (`envoy.lb.subset_hint` → `<destination key>-subset` → list of "ip:port"), and the
 * `upstream.address` attribute Envoy reports with the response.
 */
import type { ProcessingRequest, ProtoStruct, ProtoValue } from "./protocol.ts";

/** `{namespace: {key: value}}` as a google.protobuf.Struct for `dynamic_metadata`. */
export function dynamicMetadata(namespace: string, key: string, value: string): ProtoStruct {
  return { fields: { [namespace]: { structValue: { fields: { [key]: { stringValue: value } } } } } };
}

/**
 * The subset hint: the endpoints Envoy allows, from `filter_metadata[namespace][key]` (a list of
 * strings, or one comma-separated string). Undefined when no hint was sent.
 */
export function subsetHint(req: ProcessingRequest, namespace: string, key: string): string[] | undefined {
  const value = req.metadataContext?.filterMetadata?.[namespace]?.fields?.[key];
  if (value === undefined) return undefined;
  return stringsOf(value);
}

/** The `upstream.address` attribute (the endpoint Envoy actually connected to), when Envoy sent it. */
export function upstreamAddress(req: ProcessingRequest): string | undefined {
  for (const struct of Object.values(req.attributes ?? {})) {
    const v = struct.fields?.["upstream.address"]?.stringValue;
    if (v) return v;
  }
  return undefined;
}

function stringsOf(value: ProtoValue): string[] {
  if (value.listValue)
    return (value.listValue.values ?? []).flatMap((v) => (v.stringValue ? splitList(v.stringValue) : []));
  return value.stringValue ? splitList(value.stringValue) : [];
}

function splitList(s: string): string[] {
  return s
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}
