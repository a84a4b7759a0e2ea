import { ApiError } from "./api-error.ts";
import type { Rng } from "./rng.ts";

/** The named failure types (as llm-d-inference-sim's) -> status and message. */
const NAMED: Record<string, { status: number; message: (model: string) => string }> = {
  rate_limit: { status: 429, message: (m) => `Rate limit reached for ${m}` },
  invalid_api_key: { status: 401, message: () => "Incorrect API key provided." },
  context_length: {
    status: 400,
    message: () =>
      "This model's maximum context length has been exceeded. Please reduce the length of the messages.",
  },
  server_error: { status: 503, message: () => "The server is overloaded or not ready yet." },
  invalid_request: { status: 400, message: () => "Invalid request (injected failure)." },
  model_not_found: { status: 404, message: (m) => `The model \`${m}\` does not exist.` },
};

/** Checks --failure-types entries (names above or HTTP status codes 400-599); returns problems. */
export function checkFailureTypes(types: readonly string[]): string[] {
  return types
    .filter((t) => NAMED[t] === undefined && !isStatus(t))
    .map(
      (t) =>
        `--failure-types: unknown type ${JSON.stringify(t)} (use ${Object.keys(NAMED).join(", ")} or a status 400-599)`,
    );
}

function isStatus(t: string): boolean {
  const n = Number(t);
  return Number.isInteger(n) && n >= 400 && n <= 599;
}

function fromType(t: string, model: string): ApiError {
  const named = NAMED[t];
  if (named !== undefined) return new ApiError(named.status, named.message(model));
  return new ApiError(Number(t), `Injected failure (HTTP ${t}).`);
}

/**
 * The injected error for a request, or null: the `X-Return-Error: <status|type>` header forces one;
 * otherwise with probability rate a type drawn from types (default server_error).
 */
export function injectedFailure(
  header: string | undefined,
  rate: number,
  types: readonly string[],
  rng: Rng,
  model: string,
): ApiError | null {
  if (header !== undefined && header.length > 0) {
    const t = header.trim();
    if (NAMED[t] !== undefined || isStatus(t)) return fromType(t, model);
    return new ApiError(
      400,
      `X-Return-Error: expected a status 400-599 or a failure type, got ${JSON.stringify(t)}.`,
    );
  }
  if (rate <= 0 || rng.next() >= rate) return null;
  const list = types.length > 0 ? types : ["server_error"];
  return fromType(list[rng.int(list.length)]!, model);
}
