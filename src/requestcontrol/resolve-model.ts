/**
 * Stage 3, resolve model/objective: the pool's InferenceModel for the client's `model` gives the
 * priority (criticality) and a weighted draw over its targetModels gives the model the engine sees;
 * an `x-gateway-inference-objective` header naming an InferenceObjective of the pool overrides the
 * priority. A pool with InferenceModels refuses other model names (404); a pool without any passes
 * `model` through unchanged.
 */
import type { ModelRecord } from "../api/inference-model.ts";
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
  if (!model && poolModels && poolModels.size > 0) {
    throw new GatewayError(
      "modelNotFound",
      `The model '${clip(clientModel)}' does not exist (InferencePool ${poolKey} serves: ${[...poolModels.keys()].join(", ")})`,
      { param: "model" },
    );
  }
  const objectiveName = headers[OBJECTIVE_HEADER];
  const objective =
    objectiveName !== undefined ? config.objectives.get(poolKey)?.get(objectiveName) : undefined;
  const targetModel = model ? drawTarget(model, random) : clientModel;
  return {
    clientModel,
    targetModel,
    priority: objective ? objective.priority : (model?.priority ?? 0),
    source: objective ? "InferenceObjective" : model ? "InferenceModel" : "passthrough",
    ...(model ? { model } : {}),
    ...(objective ? { objective: objective.name } : {}),
  };
}

/** Weighted draw over targetModels (weight/sum); the modelName itself when there are none. */
export function drawTarget(model: ModelRecord, random: () => number = Math.random): string {
  const { targets } = model;
  if (targets.length === 0) return model.modelName;
  if (targets.length === 1) return targets[0]!.name;
  const total = targets.reduce((s, t) => s + t.weight, 0);
  let r = random() * total;
  for (const t of targets) {
    r -= t.weight;
    if (r < 0) return t.name;
  }
  return targets[targets.length - 1]!.name;
}
