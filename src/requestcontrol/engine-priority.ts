/**
 * Engine priority: for pools whose servers run vLLM with `--scheduling-policy priority` (pool
 * annotation `engine-priority: "true"`), the body sent upstream carries vLLM's `priority` field,
 * derived from the request's gateway priority (criticality or InferenceObjective). vLLM serves
 * lower values sooner (its waiting queue is ordered by (priority, arrival)) and, out of KV blocks,
 * preempts the running request with the highest value; the gateway's priority is the opposite
 * (higher = more important), so the field is its negation: Critical 1 → -1, Standard 0 → 0,
 * Sheddable -1 → 1, objective priority N → -N.
 */
import type { ParsedRequest } from "./parse-request.ts";

/** vLLM's `priority` for a gateway priority: an integer, lower = served sooner. */
export function vllmPriority(gatewayPriority: number): number {
  // `0 - x`, not `-x`: Standard must be 0, not -0 (JSON.stringify writes both as 0, but tests compare).
  return 0 - Math.trunc(gatewayPriority);
}

/**
 * The body to send upstream: the client's bytes unchanged when nothing changes; with only the model
 * changed, the target's JSON string spliced in place of the client's (no tree kept or rebuilt;
 * re-serialised only when the key was written escaped, the parse cost being bounded by then); in an
 * engine-priority pool, the JSON re-serialised with `model` and `priority` set (the client's own
 * `priority`, if any, is replaced: in such a pool the gateway decides the order).
 */
export function upstreamBody(
  parsed: Pick<ParsedRequest, "rawBody" | "modelSpan">,
  targetModel: string,
  clientModel: string,
  enginePriority: number | undefined,
): { body: Buffer; rewritten: boolean } {
  const modelChanged = targetModel !== clientModel;
  if (enginePriority === undefined)
    return modelChanged
      ? { body: withModel(parsed, targetModel), rewritten: true }
      : { body: parsed.rawBody, rewritten: false };
  const json = JSON.parse(parsed.rawBody.toString("utf8")) as Record<string, unknown>;
  if (!modelChanged && json["priority"] === enginePriority) return { body: parsed.rawBody, rewritten: false };
  const body = { ...json, model: targetModel, priority: enginePriority };
  return { body: Buffer.from(JSON.stringify(body)), rewritten: true };
}

function withModel(parsed: Pick<ParsedRequest, "rawBody" | "modelSpan">, model: string): Buffer {
  const raw = parsed.rawBody;
  const span = parsed.modelSpan;
  if (span === undefined) return Buffer.from(JSON.stringify({ ...JSON.parse(raw.toString("utf8")), model }));
  return Buffer.concat([
    raw.subarray(0, span.start),
    Buffer.from(JSON.stringify(model)),
    raw.subarray(span.end),
  ]);
}
