/**
 * InferenceModelRewrite `inference.networking.x-k8s.io/v1alpha2` (upstream v1.2–v1.5): ordered
 * rules that match the request's `model` and rewrite it to one of weighted targets. Upstream's
 * precedence, which `poolRewrites` applies: an exact match beats a rule without matches, then the
 * oldest object, then rule order.
 */
import { z } from "zod";
import { POOL_GROUP_V1 } from "./inference-pool.ts";
import { metadataSchema, poolRefSchema } from "./metadata.ts";

const targetSchema = z.object({
  modelRewrite: z.string().min(1).describe("The model name the request is sent with."),
  weight: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe("Share of traffic: weight / sum of the rule's weights; on every target or on none."),
});

const WEIGHTS_MESSAGE = "weights must be set on all targets or on none";

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
  targets: z
    .array(targetSchema)
    .min(1)
    .optional()
    .superRefine((targets, ctx) => {
      const weighted = (targets ?? []).filter((t) => t.weight !== undefined).length;
      if (targets && weighted !== 0 && weighted !== targets.length)
        ctx.addIssue({
          code: "custom",
          message: WEIGHTS_MESSAGE,
          path: [targets.findIndex((t) => t.weight === undefined), "weight"],
        });
    })
    // No CEL twin: with rules and targets unbounded (as upstream's), the API server refuses its cost.
    .describe("Weighted model names to send instead; absent leaves the model unchanged."),
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

/** A weighted model name (weight 1 each when none were given). */
export interface WeightedModel {
  readonly name: string;
  readonly weight: number;
}

/** One rule of an InferenceModelRewrite, as the datastore keeps it. */
export interface RewriteRule {
  /** `namespace/name` of the InferenceModelRewrite it belongs to. */
  readonly rewriteKey: string;
  /** Exact model names it matches; empty = every model. */
  readonly models: readonly string[];
  /** Empty = the model is sent unchanged. */
  readonly targets: readonly WeightedModel[];
}

/** One accepted InferenceModelRewrite. */
export interface RewriteRecord {
  readonly key: string;
  /** `namespace/name` of the pool. */
  readonly poolKey: string;
  readonly rules: readonly RewriteRule[];
  readonly creationTimestamp?: string;
}

/** The winning rule per model name of one pool, and the rule for every other name. */
export interface PoolRewrites {
  readonly exact: ReadonlyMap<string, RewriteRule>;
  readonly generic?: RewriteRule;
}

export function toRewriteRecord(doc: z.infer<typeof inferenceModelRewriteSchema>): RewriteRecord {
  const { metadata, spec } = doc;
  const key = `${metadata.namespace}/${metadata.name}`;
  return {
    key,
    poolKey: `${metadata.namespace}/${spec.poolRef.name}`,
    rules: spec.rules.map((r) => ({
      rewriteKey: key,
      models: (r.matches ?? []).map((m) => m.model.value),
      targets: (r.targets ?? []).map((t) => ({ name: t.modelRewrite, weight: t.weight ?? 1 })),
    })),
    ...(metadata.creationTimestamp ? { creationTimestamp: String(metadata.creationTimestamp) } : {}),
  };
}

/**
 * The rule table of one pool from its rewrites, oldest first: per model, the first exact rule of
 * the oldest object; for other models, the first rule without matches of the oldest object.
 */
export function poolRewrites(oldestFirst: readonly RewriteRecord[]): PoolRewrites {
  const exact = new Map<string, RewriteRule>();
  let generic: RewriteRule | undefined;
  for (const record of oldestFirst)
    for (const rule of record.rules) {
      if (rule.models.length === 0) generic ??= rule;
      for (const m of rule.models) if (!exact.has(m)) exact.set(m, rule);
    }
  return generic ? { exact, generic } : { exact };
}

/** The rule that applies to `model`, if any. */
export function rewriteRuleFor(rewrites: PoolRewrites | undefined, model: string): RewriteRule | undefined {
  return rewrites?.exact.get(model) ?? rewrites?.generic;
}
