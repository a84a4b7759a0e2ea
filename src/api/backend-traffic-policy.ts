/**
 * Envoy Gateway BackendTrafficPolicy `gateway.envoyproxy.io/v1alpha1`: only
 * `spec.timeout.http.requestTimeout` is read, for a Gateway or HTTPRoute target.
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { localRefSchema, metadataSchema } from "./metadata.ts";

const durationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, "not a duration (e.g. 30s, 5m, 24h)");

export const backendTrafficPolicySchema = z.object({
  apiVersion: z.literal("gateway.envoyproxy.io/v1alpha1"),
  kind: z.literal("BackendTrafficPolicy"),
  metadata: metadataSchema,
  // Envoy Gateway's kind: its many other fields are accepted as they are (loose objects).
  spec: z
    .looseObject({
      targetRef: localRefSchema.optional(),
      targetRefs: z.array(localRefSchema).optional(),
      timeout: z
        .looseObject({ http: z.looseObject({ requestTimeout: durationSchema.optional() }).optional() })
        .optional(),
    })
    .refine(
      (s) => s.targetRef !== undefined || (s.targetRefs?.length ?? 0) > 0,
      "targetRef or targetRefs is required",
    ),
});

export interface TrafficPolicyRecord {
  readonly key: string;
  /** `Gateway/namespace/name` or `HTTPRoute/namespace/name`. */
  readonly targets: readonly string[];
  /** Whole-request timeout in ms (0 = none), when set. */
  readonly requestTimeoutMs?: number;
}

export function toTrafficPolicyRecord(doc: z.infer<typeof backendTrafficPolicySchema>): TrafficPolicyRecord {
  const ns = doc.metadata.namespace;
  const refs = [...(doc.spec.targetRef ? [doc.spec.targetRef] : []), ...(doc.spec.targetRefs ?? [])];
  const timeout = doc.spec.timeout?.http?.requestTimeout;
  return {
    key: `${ns}/${doc.metadata.name}`,
    targets: refs.map((r) => `${r.kind ?? "Gateway"}/${ns}/${r.name}`),
    ...(timeout !== undefined ? { requestTimeoutMs: parseDuration(timeout) ?? 0 } : {}),
  };
}
