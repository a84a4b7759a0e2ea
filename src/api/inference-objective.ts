/**
 * InferenceObjective (v1 era): an integer priority for a pool, chosen per request by the
 * `x-gateway-inference-objective` header, which carries the object's name.
 */
import { z } from "zod";
import { POOL_GROUP_V1 } from "./inference-pool.ts";
import { metadataSchema, poolRefSchema } from "./metadata.ts";

export const inferenceObjectiveSchema = z.object({
  apiVersion: z.enum(["inference.networking.x-k8s.io/v1alpha2", "inference.networking.k8s.io/v1alpha1"]),
  kind: z.literal("InferenceObjective"),
  metadata: metadataSchema,
  spec: z.object({
    /** Higher = more important; negative = sheddable; unset = 0. */
    priority: z
      .number()
      .int()
      .optional()
      .describe("Higher is served first under load; negative values are shed first; unset is 0."),
    poolRef: poolRefSchema(POOL_GROUP_V1),
  }),
});

export interface ObjectiveRecord {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly poolKey: string;
  readonly priority: number;
}

export function toObjectiveRecord(doc: z.infer<typeof inferenceObjectiveSchema>): ObjectiveRecord {
  const { metadata, spec } = doc;
  return {
    key: `${metadata.namespace}/${metadata.name}`,
    name: metadata.name,
    namespace: metadata.namespace,
    poolKey: `${metadata.namespace}/${spec.poolRef.name}`,
    priority: spec.priority ?? 0,
  };
}
