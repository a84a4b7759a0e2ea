/**
 * The standalone endpoints file: `endpoints: [{address: "host[:port]", labels: {...}}]`. An entry
 * belongs to every pool whose selector its labels match; without a port it gets the pool's target
 * port(s). YAML or JSON; errors (unknown fields included: a misspelt `labels` would leave the
 * endpoint in no pool) name file, line and field.
 */
import { z } from "zod";
import type { EndpointSpec } from "../datastore/endpoint-spec.ts";
import { ConfigError } from "./config-error.ts";
import { issueAt } from "./origin.ts";
import { parseObject } from "./parse-object.ts";
import { readDocuments } from "./read-documents.ts";
import { unknownFieldMessage } from "./unknown-fields.ts";

const ADDRESS = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/;

/** Splits `host`, `host:port`, `[v6]:port`; undefined when malformed or the port is out of range. */
export function parseAddress(address: string): { host: string; port?: number } | undefined {
  const m = ADDRESS.exec(address.trim());
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  if (m[3] === undefined) return { host };
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

const endpointsFileSchema = z.object({
  endpoints: z
    .array(
      z.object({
        address: z
          .string()
          .refine((a) => parseAddress(a) !== undefined, "must be host, host:port or [ipv6]:port"),
        labels: z.record(z.string(), z.string()).default({}),
      }),
    )
    .nullish(),
});

const OBJECT = "endpoints file";

/** Reads and validates the endpoints file; throws ConfigError. An empty file means no endpoints. */
export function loadEndpointsFile(file: string): EndpointSpec[] {
  const docs = readDocuments([file]);
  if (docs.length === 0) return [];
  if (docs.length > 1) throw new ConfigError([issueAt(docs[1]!.origin, [], OBJECT, "expected one document")]);
  const { object, origin } = docs[0]!;
  const parsed = parseObject(endpointsFileSchema, object);
  const issues = [
    ...parsed.errors.map((e) => issueAt(origin, e.path, OBJECT, e.message, e.at)),
    ...parsed.unknown.map((u) => issueAt(origin, u.path, OBJECT, unknownFieldMessage(u))),
  ];
  if (issues.length > 0 || parsed.data === undefined) throw new ConfigError(issues);
  return (parsed.data.endpoints ?? []).map((e) => {
    const a = parseAddress(e.address)!;
    return { host: a.host, ...(a.port !== undefined ? { port: a.port } : {}), labels: e.labels };
  });
}
