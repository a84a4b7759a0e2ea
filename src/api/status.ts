/**
 * The `status` of the inference kinds, as upstream defines it: Kubernetes conditions
 * (`metav1.Condition`) and, on InferencePool, one entry per parent Gateway. The CRDs in
 * `deploy/crds/` are generated from these schemas; the Kubernetes source writes them.
 */
import { z } from "zod";
import { groupSchema, kindSchema } from "./metadata.ts";

/** One `metav1.Condition`; `lastTransitionTime` is RFC 3339 in UTC. */
export const conditionSchema = z.object({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    )
    .describe("Condition type in CamelCase, such as Accepted or ResolvedRefs."),
  status: z.enum(["True", "False", "Unknown"]),
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .meta({ format: "int64", description: "metadata.generation the condition was computed from." }),
  lastTransitionTime: z.iso.datetime().describe("When the status last changed."),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe("Machine-readable CamelCase reason for the last transition."),
  message: z.string().max(32768).describe("Human-readable details; may be empty."),
});

export type Condition = z.infer<typeof conditionSchema>;

/** Conditions keyed by type (at most 8), merged per type by server-side apply. */
export const conditionsSchema = z
  .array(conditionSchema)
  .max(8)
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

/** The condition upstream's CRDs default a fresh object to, until a controller writes status. */
export function pendingCondition(type: string): Condition {
  return {
    type,
    status: "Unknown",
    reason: "Pending",
    message: "Waiting for controller",
    lastTransitionTime: "1970-01-01T00:00:00Z",
  };
}

/** `status` of InferenceModel, InferenceObjective and InferenceModelRewrite. */
export function conditionsStatusSchema(pendingType: string) {
  return z.object({
    conditions: conditionsSchema.default([pendingCondition(pendingType)]),
  });
}

/** The parent (normally a Gateway) a pool status entry is about. */
export const parentReferenceSchema = z.object({
  group: groupSchema.default("gateway.networking.k8s.io"),
  kind: kindSchema.default("Gateway"),
  name: z.string().min(1).max(253),
  namespace: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .optional(),
});

/**
 * v1alpha2 InferencePool `status.parent[]` (at most 32): Accepted and ResolvedRefs per Gateway.
 * The entry `kind: Status, name: default` means "no Gateway has taken this pool yet".
 */
export const poolStatusV1alpha2Schema = z
  .object({
    parent: z
      .array(z.object({ parentRef: parentReferenceSchema, conditions: conditionsSchema.optional() }))
      .max(32),
  })
  .partial()
  .default({
    parent: [
      {
        parentRef: { group: "gateway.networking.k8s.io", kind: "Status", name: "default" },
        conditions: [pendingCondition("Accepted")],
      },
    ],
  });

/** v1 InferencePool `status.parents[]` (at most 32), with the controller that wrote each entry. */
export const poolStatusV1Schema = z
  .object({
    parents: z
      .array(
        z.object({
          parentRef: parentReferenceSchema,
          controllerName: z
            .string()
            .min(1)
            .max(253)
            .regex(
              /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/,
            )
            .optional()
            .describe("Domain-prefixed name of the controller, e.g. example.com/gateway-controller."),
          conditions: conditionsSchema.optional(),
        }),
      )
      .max(32)
      .meta({ "x-kubernetes-list-type": "atomic" }),
  })
  .partial();
