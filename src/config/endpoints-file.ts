/**
 * The standalone endpoints file: `endpoints: [{address: "host[:port]", labels: {...}}]`. An entry
 * belongs to every pool whose selector its labels match; without a port it gets the pool's target
 * port(s). YAML or JSON; errors name file, line and field.
 */
import { z } from "zod";
import type { EndpointSpec } from "../datastore/endpoint-spec.ts";
import { ConfigError } from "./config-error.ts";
import { formatPath, lineAt, readDocuments } from "./read-documents.ts";

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
          .refine((a) => parseAddress(a) !== undefined, "address must be host, host:port or [ipv6]:port"),
        labels: z.record(z.string(), z.string()).default({}),
      }),
    )
    .nullish(),
});

/** Reads and validates the endpoints file; throws ConfigError. An empty file means no endpoints. */
export function loadEndpointsFile(file: string): EndpointSpec[] {
  const docs = readDocuments([file]);
  if (docs.length === 0) return [];
  if (docs.length > 1)
    throw new ConfigError([
      { file, line: lineAt(docs[1]!, []), field: "", object: "", reason: "expected one document" },
    ]);
  const src = docs[0]!;
  const parsed = endpointsFileSchema.safeParse(src.value);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        file,
        line: lineAt(src, i.path),
        field: formatPath(i.path),
        object: "endpoints file",
        reason: i.message,
      })),
    );
  }
  return (parsed.data.endpoints ?? []).map((e) => {
    const a = parseAddress(e.address)!;
    return { host: a.host, ...(a.port !== undefined ? { port: a.port } : {}), labels: e.labels };
  });
}
