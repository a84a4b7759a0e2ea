import { ApiError } from "./api-error.ts";
import { checkFailureTypes } from "./faults.ts";
import { OPTION_SPECS } from "./option-table.ts";
import { coerceOption } from "./option-values.ts";
import type { SimOptions } from "./options.ts";
import type { Replica } from "./replica.ts";

/** Options that `POST /admin/config` may change on a running replica (faults and queue limits). */
export const RUNTIME_OPTIONS = [
  "failure-rate",
  "failure-types",
  "stall-prob",
  "stall-ms",
  "mid-stream-error-prob",
  "dead-after",
  "max-waiting-queue-length",
] as const;

const SPECS = new Map(
  OPTION_SPECS.filter((s) => (RUNTIME_OPTIONS as readonly string[]).includes(s.name)).map((s) => [s.name, s]),
);

/** The current runtime-changeable settings of a replica, keyed by option name. */
export function runtimeConfig(r: Replica): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of SPECS) out[name] = r.options[spec.key];
  return out;
}

/**
 * Applies a partial update `{option-name: value}` to one replica (all-or-nothing). Unknown or
 * start-time-only options and bad values are a 400 naming the field.
 */
export function applyRuntimeConfig(r: Replica, body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "Send a JSON object of option: value.");
  }
  const updates: Partial<Record<keyof SimOptions, unknown>> = {};
  for (const [rawKey, value] of Object.entries(body)) {
    const key = rawKey.replaceAll("_", "-");
    const spec = SPECS.get(key);
    if (spec === undefined) {
      throw new ApiError(
        400,
        `${rawKey}: not changeable at run time (use one of ${RUNTIME_OPTIONS.join(", ")}).`,
        rawKey,
      );
    }
    try {
      updates[spec.key] = coerceOption(spec, value);
    } catch (e) {
      throw new ApiError(400, (e as Error).message, rawKey);
    }
  }
  const types = updates.failureTypes as string[] | undefined;
  if (types !== undefined) {
    const errs = checkFailureTypes(types);
    if (errs.length > 0) throw new ApiError(400, errs.join("; "), "failure-types");
  }
  Object.assign(r.options, updates);
  r.config.stallProb = r.options.stallProb;
  r.config.stallMs = r.options.stallMs;
}
