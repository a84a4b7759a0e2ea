/**
 * Saturation detectors by kebab-case type name (`utilization-detector`, `concurrency-detector`),
 * with their parameters validated as EndpointPickerConfig writes them.
 */
import { z } from "zod";
import { FlowControlConfigError, fromZod } from "../config-issues.ts";
import { parseDuration } from "../quantity.ts";
import type { SaturationDetector } from "../types.ts";
import { ConcurrencyDetector } from "./concurrency-detector.ts";
import { UtilizationDetector } from "./utilization-detector.ts";

/** A detector as configured: registry type plus raw parameters. */
export interface DetectorSpec {
  readonly type: string;
  readonly parameters?: Readonly<Record<string, unknown>> | undefined;
}

const durationMs = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

const utilizationParams = z
  .object({
    queueDepthThreshold: z.number().positive().optional(),
    kvCacheUtilThreshold: z.number().gt(0).max(1).optional(),
    /** Go duration (`200ms`) or milliseconds. */
    metricsStalenessThreshold: durationMs.optional(),
    headroom: z.number().nonnegative().optional(),
  })
  .strict();

const concurrencyParams = z
  .object({
    concurrencyMode: z.enum(["requests", "tokens"]).optional(),
    maxConcurrency: z.number().positive().optional(),
    maxTokenConcurrency: z.number().positive().optional(),
  })
  .strict();

const factories: Readonly<Record<string, (params: unknown) => SaturationDetector>> = {
  "utilization-detector": (raw) => {
    const p = utilizationParams.parse(raw ?? {});
    return new UtilizationDetector({
      ...(p.queueDepthThreshold !== undefined && { queueDepthThreshold: p.queueDepthThreshold }),
      ...(p.kvCacheUtilThreshold !== undefined && { kvCacheUtilThreshold: p.kvCacheUtilThreshold }),
      ...(p.metricsStalenessThreshold !== undefined && {
        metricsStalenessThresholdMs: p.metricsStalenessThreshold,
      }),
      ...(p.headroom !== undefined && { headroom: p.headroom }),
    });
  },
  "concurrency-detector": (raw) => {
    const p = concurrencyParams.parse(raw ?? {});
    return new ConcurrencyDetector({
      ...(p.concurrencyMode !== undefined && { concurrencyMode: p.concurrencyMode }),
      ...(p.maxConcurrency !== undefined && { maxConcurrency: p.maxConcurrency }),
      ...(p.maxTokenConcurrency !== undefined && { maxTokenConcurrency: p.maxTokenConcurrency }),
    });
  },
};

/** The registered detector type names. */
export const detectorTypes: readonly string[] = Object.keys(factories);

/** The default detector: `utilization-detector` with 5 / 0.8 / 200 ms. */
export const DEFAULT_DETECTOR: DetectorSpec = { type: "utilization-detector" };

/** Builds a detector; throws FlowControlConfigError (paths under `at`) on unknown type or bad parameters. */
export function createSaturationDetector(
  spec: DetectorSpec,
  at: readonly (string | number)[] = [],
): SaturationDetector {
  const factory = Object.hasOwn(factories, spec.type) ? factories[spec.type] : undefined;
  if (!factory) {
    throw new FlowControlConfigError([
      {
        path: [...at, "type"],
        message: `unknown saturation detector "${spec.type}" (known: ${detectorTypes.join(", ")})`,
      },
    ]);
  }
  try {
    return factory(spec.parameters);
  } catch (e) {
    if (e instanceof z.ZodError) throw new FlowControlConfigError(fromZod([...at, "parameters"], e.issues));
    throw e;
  }
}
