/**
 * InferenceModel `inference.networking.x-k8s.io/v1alpha2`: a client-facing model name in a pool,
 * its criticality, and weighted target models that rewrite `model` (e.g. to a LoRA adapter).
 */
import { z } from "zod";
import type { WeightedModel } from "./inference-model-rewrite.ts";
import { metadataSchema, poolRefSchema } from "./metadata.ts";

export const CRITICALITIES = ["Critical", "Standard", "Sheddable"] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/**
 * Criticality as an integer priority on the same scale as InferenceObjective `priority`
 * (higher = more important): Critical 1, Standard 0 (also when unset), Sheddable -1.
 */
export const CRITICALITY_PRIORITY: Readonly<Record<Criticality, number>> = {
  Critical: 1,
  Standard: 0,
  Sheddable: -1,
};

export const inferenceModelSchema = z.object({
  apiVersion: z.literal("inference.networking.x-k8s.io/v1alpha2"),
  kind: z.literal("InferenceModel"),
  metadata: metadataSchema,
  spec: z.object({
    modelName: z
      .string()
      .min(1)
      .max(256)
      .meta({
        description: "The model name clients send; unique per pool (the oldest object wins).",
        "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "modelName is immutable" }],
      }),
    criticality: z
      .enum(CRITICALITIES)
      .optional()
      .describe("Priority under load: Critical, Standard (when unset) or Sheddable."),
    poolRef: poolRefSchema("inference.networking.x-k8s.io"),
    targetModels: z
      .array(
        z.object({
          name: z.string().min(1).max(253).describe("Model name sent to the servers (e.g. a LoRA adapter)."),
          weight: z.number().int().min(1).max(1_000_000).optional(),
        }),
      )
      .max(10)
      .default([])
      .superRefine((targets, ctx) => {
        const weighted = targets.filter((t) => t.weight !== undefined).length;
        if (weighted !== 0 && weighted !== targets.length) {
          ctx.addIssue({
            code: "custom",
            message: "weights must be set on all targetModels or on none",
            path: [targets.findIndex((t) => t.weight === undefined), "weight"],
          });
        }
      })
      .meta({
        description: "Weighted rewrites of the model name; empty means modelName itself.",
        "x-kubernetes-validations": [
          {
            rule: "self.all(t, has(t.weight)) || self.all(t, !has(t.weight))",
            message: "weights must be set on all targetModels or on none",
          },
        ],
      }),
  }),
});

/** One accepted InferenceModel, as the datastore keeps it. */
export interface ModelRecord {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** What clients send in `model`. */
  readonly modelName: string;
  /** `namespace/name` of the pool. */
  readonly poolKey: string;
  readonly criticality: Criticality;
  readonly priority: number;
  /** Weighted targets (weight 1 each when none were given); empty = target is modelName. */
  readonly targets: readonly WeightedModel[];
  readonly creationTimestamp?: string;
}

export function toModelRecord(doc: z.infer<typeof inferenceModelSchema>): ModelRecord {
  const { metadata, spec } = doc;
  const criticality = spec.criticality ?? "Standard";
  return {
    key: `${metadata.namespace}/${metadata.name}`,
    name: metadata.name,
    namespace: metadata.namespace,
    modelName: spec.modelName,
    poolKey: `${metadata.namespace}/${spec.poolRef.name}`,
    criticality,
    priority: CRITICALITY_PRIORITY[criticality],
    targets: spec.targetModels.map((t) => ({ name: t.name, weight: t.weight ?? 1 })),
    ...(metadata.creationTimestamp ? { creationTimestamp: String(metadata.creationTimestamp) } : {}),
  };
}
