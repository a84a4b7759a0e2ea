/**
 * Which request paths the gateway proxies by default: the OpenAI inference APIs. Everything else
 * an engine serves (vLLM's `/v1/load_lora_adapter`, `/reset_prefix_cache`, `/sleep`, the
 * simulator's `/admin/*`, `/tokenize`) is proxied only when an HTTPRoute names it by path.
 */

/** The inference APIs, proxied whatever the routes' path matches say. */
export const INFERENCE_PATHS: ReadonlySet<string> = new Set([
  "/v1/completions",
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/responses",
]);

/** True for one of INFERENCE_PATHS (path without the query). */
export function isInferencePath(path: string): boolean {
  return INFERENCE_PATHS.has(path);
}
