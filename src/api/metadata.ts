/** Kubernetes object metadata as the gateway reads it (from manifests or an API server). */
import { z } from "zod";

/** `metadata`: name required; namespace defaults to `default`, as `kubectl apply` would. */
export const metadataSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lower-case DNS name (a-z, 0-9, '-', '.')"),
  namespace: z.string().min(1).max(63).default("default"),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  /** Used for "oldest wins" rules; absent means "as old as its position in the files". */
  creationTimestamp: z.union([z.string(), z.date()]).optional(),
  // ObjectMeta fields an API server sets (or kubectl writes) that the gateway accepts and does not read.
  uid: z.unknown().optional(),
  resourceVersion: z.unknown().optional(),
  generation: z.unknown().optional(),
  generateName: z.unknown().optional(),
  managedFields: z.unknown().optional(),
  ownerReferences: z.unknown().optional(),
  finalizers: z.unknown().optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.unknown().optional(),
  selfLink: z.unknown().optional(),
});

export type Metadata = z.infer<typeof metadataSchema>;

/** A reference to another object in the same namespace (`poolRef`, `targetRef`...). */
export const localRefSchema = z.object({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().min(1).max(253),
});

/** A Kubernetes API group: empty (the core group) or a DNS subdomain. */
export const groupSchema = z
  .string()
  .max(253)
  .regex(
    /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be empty or a DNS subdomain",
  );

/** A Kubernetes kind name (CamelCase, 1 to 63 characters). */
export const kindSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, "must be a kind name such as InferencePool");

/**
 * `poolRef` of InferenceModel, InferenceObjective and InferenceModelRewrite: an InferencePool in
 * the same namespace. `defaultGroup` is the group upstream defaults to for that kind.
 */
export function poolRefSchema(defaultGroup: string) {
  return z.object({
    group: groupSchema.default(defaultGroup),
    kind: kindSchema.default("InferencePool"),
    name: z.string().min(1).max(253),
  });
}

/** Where a document came from: file and 1-based line of its first key. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
}

/** `namespace/name`, the key every datastore map uses. */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
