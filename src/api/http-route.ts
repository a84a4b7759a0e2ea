/**
 * HTTPRoute `gateway.networking.k8s.io/v1`: parentRefs (Gateway + sectionName), hostnames, rules
 * with path / header / query / method matches (Exact, PathPrefix, RegularExpression) and weighted
 * backendRefs to InferencePools.
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { metadataSchema } from "./metadata.ts";
import { routeRegexProblem } from "./route-regex.ts";

/** Adds "not a valid RE2 regular expression" at `value` when a RegularExpression match does not compile. */
function checkRegex(m: { type: string; value: string }, ctx: z.core.$RefinementCtx): void {
  if (m.type !== "RegularExpression") return;
  const problem = routeRegexProblem(m.value);
  if (problem)
    ctx.addIssue({
      code: "custom",
      message: `is not a valid RE2 regular expression: ${problem}`,
      path: ["value"],
    });
}

const pathMatch = z
  .object({
    type: z.enum(["Exact", "PathPrefix", "RegularExpression"]).default("PathPrefix"),
    value: z.string().default("/"),
  })
  .superRefine((p, ctx) => {
    if (p.type !== "RegularExpression" && !p.value.startsWith("/"))
      ctx.addIssue({ code: "custom", message: "must start with '/'", path: ["value"] });
    checkRegex(p, ctx);
  });

const valueMatch = z
  .object({
    type: z.enum(["Exact", "RegularExpression"]).default("Exact"),
    name: z.string().min(1).max(256),
    value: z.string().max(4096),
  })
  .superRefine(checkRegex);

const durationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, "not a duration (e.g. 30s, 5m)");

export const httpRouteSchema = z.object({
  apiVersion: z.enum(["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]),
  kind: z.literal("HTTPRoute"),
  metadata: metadataSchema,
  spec: z.object({
    parentRefs: z
      .array(
        z.object({
          group: z.string().default("gateway.networking.k8s.io"),
          kind: z.string().default("Gateway"),
          namespace: z.string().optional(),
          name: z.string().min(1),
          sectionName: z.string().optional(),
          port: z.number().int().min(1).max(65535).optional(),
        }),
      )
      .max(32)
      .default([]),
    hostnames: z.array(z.string().min(1)).max(16).default([]),
    rules: z
      .array(
        z.object({
          name: z.string().optional(),
          matches: z
            .array(
              z.object({
                path: pathMatch.optional(),
                headers: z.array(valueMatch).max(16).default([]),
                queryParams: z.array(valueMatch).max(16).default([]),
                method: z
                  .enum(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"])
                  .optional(),
              }),
            )
            .max(64)
            .default([]),
          backendRefs: z
            .array(
              z.object({
                group: z.string().default(""),
                kind: z.string().default("Service"),
                name: z.string().min(1),
                namespace: z.string().optional(),
                port: z.number().int().optional(),
                weight: z.number().int().min(0).max(1_000_000).default(1),
                /** Accepted, not applied (like rule filters). */
                filters: z.array(z.unknown()).optional(),
              }),
            )
            .max(16)
            .default([]),
          timeouts: z
            .object({ request: durationSchema.optional(), backendRequest: durationSchema.optional() })
            .optional(),
          /** Gateway API fields accepted and not read by the standalone gateway. */
          retry: z.unknown().optional(),
          sessionPersistence: z.unknown().optional(),
          /** Read only to report that filters are not applied. */
          filters: z.array(z.unknown()).optional(),
        }),
      )
      .max(16)
      .default([{ matches: [], backendRefs: [] }]),
  }),
});

export type HttpRouteDoc = z.infer<typeof httpRouteSchema>;

/** One normalised match: every field given must match (AND). */
export interface RouteMatchRecord {
  readonly path: { readonly type: "Exact" | "PathPrefix" | "RegularExpression"; readonly value: string };
  readonly headers: readonly {
    readonly type: "Exact" | "RegularExpression";
    readonly name: string;
    readonly value: string;
  }[];
  readonly queryParams: readonly {
    readonly type: "Exact" | "RegularExpression";
    readonly name: string;
    readonly value: string;
  }[];
  readonly method?: string;
}

export interface RouteBackendRecord {
  /** `namespace/name` of the InferencePool. */
  readonly poolKey: string;
  readonly weight: number;
}

export interface RouteRuleRecord {
  readonly index: number;
  /** Never empty: a rule without matches matches every path (PathPrefix "/"). */
  readonly matches: readonly RouteMatchRecord[];
  readonly backends: readonly RouteBackendRecord[];
  readonly requestTimeoutMs?: number;
}

export interface RouteRecord {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** Listener keys (`ns/gateway/listener`) the route attaches to; filled by config/. */
  readonly listenerKeys: readonly string[];
  readonly hostnames: readonly string[];
  readonly rules: readonly RouteRuleRecord[];
  readonly creationTimestamp?: string;
  /** Position in the files, for the "oldest wins" tie-break when no timestamp is set. */
  readonly order: number;
}

const DEFAULT_PATH = { type: "PathPrefix", value: "/" } as const;

/** Normalises rules; listenerKeys are resolved by the config builder. */
export function toRouteRules(doc: HttpRouteDoc): RouteRuleRecord[] {
  const ns = doc.metadata.namespace;
  return doc.spec.rules.map((rule, index) => {
    const matches: RouteMatchRecord[] =
      rule.matches.length === 0
        ? [{ path: DEFAULT_PATH, headers: [], queryParams: [] }]
        : rule.matches.map((m) => ({
            path: m.path ?? DEFAULT_PATH,
            headers: m.headers,
            queryParams: m.queryParams,
            ...(m.method ? { method: m.method } : {}),
          }));
    const timeout = rule.timeouts?.request;
    return {
      index,
      matches,
      backends: rule.backendRefs.map((b) => ({
        poolKey: `${b.namespace ?? ns}/${b.name}`,
        weight: b.weight,
      })),
      ...(timeout !== undefined ? { requestTimeoutMs: parseDuration(timeout) ?? 0 } : {}),
    };
  });
}
