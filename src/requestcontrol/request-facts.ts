/**
 * The facts later stages see: the SchedulingRequest for the scheduler and the FlowRequest for
 * admission, built once per request by the director.
 */
import type { AbortLike } from "../cancellation.ts";
import type { FlowRequest } from "../flowcontrol/types.ts";
import type { SchedulingRequest } from "../scheduling/types.ts";
import type { ParsedRequest } from "./parse-request.ts";
import type { ModelResolution } from "./resolve-model.ts";
import { FAIRNESS_ID_HEADER } from "./wire-headers.ts";

/** Prompt tokens estimated from text length (about 4 characters per token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** `isAdapter`: whether the target is a LoRA adapter as the pool's servers reported it (unknown = false). */
export function buildSchedulingRequest(
  req: ParsedRequest,
  resolution: ModelResolution,
  isAdapter: boolean,
): SchedulingRequest {
  return {
    requestId: req.id,
    targetModel: resolution.targetModel,
    isAdapter,
    priority: resolution.priority,
    prefixText: req.prefixText,
    promptTokens: estimateTokens(req.prefixText),
    ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
    headers: req.headers,
  };
}

/** Flow id: the `x-gateway-inference-fairness-id` header, else the client's model name. */
export function buildFlowRequest(
  req: ParsedRequest,
  resolution: ModelResolution,
  signal: AbortLike,
  onQueued?: () => void,
  onAdmitted?: () => void,
): FlowRequest {
  return {
    id: req.id,
    priority: resolution.priority,
    flowId: req.headers[FAIRNESS_ID_HEADER] || resolution.clientModel,
    // What the request holds while queued: its bytes and the prompt text kept for scheduling.
    bytes: req.rawBody.length + req.prefixText.length,
    signal,
    ...(onQueued ? { onQueued } : {}),
    ...(onAdmitted ? { onAdmitted } : {}),
  };
}
