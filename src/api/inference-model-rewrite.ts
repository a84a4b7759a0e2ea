/**
 * InferenceModelRewrite `inference.networking.x-k8s.io/v1alpha2` (upstream v1.2–v1.5): ordered
 * rules that match the request's `model` and rewrite it to one of weighted targets. Upstream's
 * precedence: an exact match beats a rule without matches, then the oldest object, then rule order.
 * The schema is read for the CRD; the gateway does not apply rewrites yet.
 */
import { z } from "zod";
import { POOL_GROUP_V1 } from "./inference-pool.ts";
import { metadataSchema, poolRefSchema } from "./metadata.ts";

const targetSchema = z.object({
  modelRewrite: z.string().describe("The model name the request is sent with."),
  weight: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe("Share of traffic: weight / sum of the rule's weights; on every target or on none."),
});

const ruleSchema = z.object({
  matches: z
    .array(
      z.object({
        model: z.object({
          type: z.enum(["Exact"]).default("Exact"),
          value: z.string().min(1).describe("The request's model name to match."),
        }),
      }),
    )
    .optional()
    .describe("Any one of these matches the request; empty or absent matches every request."),
  targets: z.array(targetSchema).min(1).optional(),
});

export const inferenceModelRewriteSchema = z.object({
  apiVersion: z.literal("inference.networking.x-k8s.io/v1alpha2"),
  kind: z.literal("InferenceModelRewrite"),
  metadata: metadataSchema,
  spec: z.object({
    poolRef: poolRefSchema(POOL_GROUP_V1),
    rules: z.array(ruleSchema).describe("Ordered rules; the first that matches is used."),
  }),
});
