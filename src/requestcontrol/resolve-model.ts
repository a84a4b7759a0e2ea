/**
 * Stage 3, resolve model/objective: the pool's InferenceModel for the client's `model` gives the
 * priority (criticality) and a weighted draw over its targetModels gives the model the engine sees;
 * an InferenceModelRewrite rule matching `model` takes the place of targetModels (upstream's
 * v1 successor of them); an `x-gateway-inference-objective` header naming an InferenceObjective of
 * the pool overrides the priority. A pool with InferenceModels refuses model names that neither an
 * InferenceModel nor a rewrite rule matches (404); a pool without any passes `model` through.
 */
import type { ModelRecord } from "../api/inference-model.ts";
import { type RewriteRule, rewriteRuleFor, type WeightedModel } from "../api/inference-model-rewrite.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import { clip, GatewayError } from "../errors.ts";
import { OBJECTIVE_HEADER } from "./wire-headers.ts";

export interface ModelResolution {
  /** What the client sent. */
  readonly clientModel: string;
  /** What the engine will see (a target model or LoRA adapter). */
  readonly targetModel: string;
  /** Higher = more important; Critical 1, Standard 0, Sheddable -1, or the objective's priority. */
  readonly priority: number;
  /** Which API decided: names the metric family (inference_model_* or inference_objective_*). */
  readonly source: "InferenceModel" | "InferenceObjective" | "passthrough";
  readonly model?: ModelRecord;
  /** The InferenceModelRewrite rule applied, when one matched. */
  readonly rewrite?: RewriteRule;
  /** Name of the InferenceObjective applied, when one was. */
  readonly objective?: string;
}

/** Resolves `model` in `poolKey`; throws GatewayError modelNotFound. */
export function resolveModel(
  config: ConfigSnapshot,
  poolKey: string,
  clientModel: string,
  headers: Readonly<Record<string, string>>,
  random: () => number = Math.random,
): ModelResolution {
  const poolModels = config.models.get(poolKey);
  const model = poolModels?.get(clientModel);
  const rewrite = rewriteRuleFor(config.rewrites.get(poolKey), clientModel);
  if (!model && !rewrite && poolModels && poolModels.size > 0) {
    throw new GatewayError(
      "modelNotFound",
      `The model '${clip(clientModel)}' does not exist (InferencePool ${poolKey} serves: ${[...poolModels.keys()].join(", ")})`,
      { param: "model" },
    );
  }
  const objectiveName = headers[OBJECTIVE_HEADER];
  const objective =
    objectiveName !== undefined ? config.objectives.get(poolKey)?.get(objectiveName) : undefined;
  const targetModel = rewrite
    ? (drawWeighted(rewrite.targets, random) ?? clientModel)
    : model
      ? drawTarget(model, random)
      : clientModel;
  return {
    clientModel,
    targetModel,
    priority: objective ? objective.priority : (model?.priority ?? 0),
    source: objective ? "InferenceObjective" : model ? "InferenceModel" : "passthrough",
    ...(model ? { model } : {}),
    ...(rewrite ? { rewrite } : {}),
    ...(objective ? { objective: objective.name } : {}),
  };
}

/** Weighted draw over targetModels (weight/sum); the modelName itself when there are none. */
export function drawTarget(model: ModelRecord, random: () => number = Math.random): string {
  return drawWeighted(model.targets, random) ?? model.modelName;
}

/** Weighted draw (weight/sum); undefined when `targets` is empty. */
function drawWeighted(targets: readonly WeightedModel[], random: () => number): string | undefined {
  if (targets.length <= 1) return targets[0]?.name;
  const total = targets.reduce((s, t) => s + t.weight, 0);
  let r = random() * total;
  for (const t of targets) {
    r -= t.weight;
    if (r < 0) return t.name;
  }
  return targets[targets.length - 1]!.name;
}
