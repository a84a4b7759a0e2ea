/**
 * Engine priority: for pools whose servers run vLLM with `--scheduling-policy priority` (pool
 * annotation `engine-priority: "true"`), the body sent upstream carries vLLM's `priority` field,
 * derived from the request's gateway priority (criticality or InferenceObjective). vLLM serves
 * lower values sooner (its waiting queue is ordered by (priority, arrival)) and, out of KV blocks,
 * preempts the running request with the highest value; the gateway's priority is the opposite
 * (higher = more important), so the field is its negation: Critical 1 → -1, Standard 0 → 0,
 * Sheddable -1 → 1, objective priority N → -N.
 */

/** vLLM's `priority` for a gateway priority: an integer, lower = served sooner. */
export function vllmPriority(gatewayPriority: number): number {
  // `0 - x`, not `-x`: Standard must be 0, not -0 (JSON.stringify writes both as 0, but tests compare).
  return 0 - Math.trunc(gatewayPriority);
}

/**
 * The body to send upstream: the client's bytes unchanged when nothing changes, else its JSON
 * with `model` set to the target model and, when `enginePriority`, `priority` set (the client's own
 * `priority`, if any, is replaced: in such a pool the gateway decides the order).
 */
export function upstreamBody(
  parsed: { readonly body: Record<string, unknown>; readonly rawBody: Buffer },
  targetModel: string,
  clientModel: string,
  enginePriority: number | undefined,
): { body: Buffer; rewritten: boolean } {
  const modelChanged = targetModel !== clientModel;
  const priorityChanged = enginePriority !== undefined && parsed.body["priority"] !== enginePriority;
  if (!modelChanged && !priorityChanged) return { body: parsed.rawBody, rewritten: false };
  const body: Record<string, unknown> = { ...parsed.body, model: targetModel };
  if (enginePriority !== undefined) body["priority"] = enginePriority;
  return { body: Buffer.from(JSON.stringify(body)), rewritten: true };
}
