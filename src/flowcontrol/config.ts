/**
 * The `flowControl` section of EndpointPickerConfig (same fields as the Inference Extension's),
 * validated with zod and resolved against the plugin registries into FlowControlSettings.
 * Every problem is reported with its field path (`flowControl.priorityBands[0].maxBytes: ...`).
 */
import { z } from "zod";
import { type ConfigIssue, FlowControlConfigError, fromZod } from "./config-issues.ts";
import {
  DEFAULT_FAIRNESS_POLICY,
  DEFAULT_ORDERING_POLICY,
  defaultQueueFor,
  fairnessPolicies,
  orderingPolicies,
  queueKinds,
} from "./policy-registry.ts";
import { parseDuration, parseQuantity } from "./quantity.ts";
import {
  createSaturationDetector,
  DEFAULT_DETECTOR,
  type DetectorSpec,
} from "./saturation/detector-registry.ts";

const quantity = z
  .union([z.number(), z.string()], { error: "expected a number or a quantity such as 512Mi" })
  .transform((v, ctx) => {
    try {
      return parseQuantity(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  });

const duration = z
  .union([z.string(), z.number()], { error: "expected a duration such as 30s or 500ms" })
  .transform((v, ctx) => {
    if (typeof v === "number" && v !== 0) {
      ctx.addIssue({ code: "custom", message: `a duration needs a unit: "${v}s" or "${v}ms", not ${v}` });
      return z.NEVER;
    }
    try {
      return typeof v === "number" ? 0 : parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  });

const bandFields = {
  priorityName: z.string().min(1).optional(),
  /** Bytes of queued request bodies this band holds (default 1 GB). */
  maxBytes: quantity.optional(),
  /** Requests this band holds (0 = unlimited, the default). */
  maxRequests: quantity.optional(),
  fairnessPolicyRef: z.string().min(1).optional(),
  orderingPolicyRef: z.string().min(1).optional(),
  queue: z.string().min(1).optional(),
  /** Extension: the band dispatches while pool saturation < usageLimit (default 1.25 for priority > 0, else 1.0). */
  usageLimit: z.number().positive().optional(),
};

const bandSchema = z.object({ priority: z.number().int(), ...bandFields }).strict();
const defaultBandSchema = z.object(bandFields).strict();

const pluginRefSchema = z.object({ pluginRef: z.string().min(1) }).strict();
const inlinePluginSchema = z
  .object({ type: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })
  .strict();

/** The raw `flowControl` section schema (before registry resolution). */
export const flowControlSchema = z
  .object({
    /** Bytes of all queued request bodies (0 = unlimited, the default). */
    maxBytes: quantity.optional(),
    /** Queued requests in all bands (0 = unlimited, the default). */
    maxRequests: quantity.optional(),
    /** Time a request may wait before 503 (0 = until the client gives up, the default). */
    defaultRequestTTL: duration.optional(),
    defaultPriorityBand: defaultBandSchema.optional(),
    defaultNegativePriorityBand: defaultBandSchema.optional(),
    priorityBands: z.array(bandSchema).optional(),
    saturationDetector: z.union([pluginRefSchema, inlinePluginSchema]).optional(),
    /** Extension: queue negative priorities too (default false: shed them with 429 when saturated). */
    queueSheddable: z.boolean().optional(),
    /** Extension: saturation that bands below an active higher band leave free (default 0.2). */
    activeReserve: z.number().min(0).optional(),
    /** Extension: a band is active when it dispatched within this duration (default 10s). */
    activeWindow: duration.optional(),
    /** Extension: after a dispatch or completion, lower bands wait this long so its band takes the room first (default 100ms). */
    reclaimWindow: duration.optional(),
  })
  .strict();

export type FlowControlInput = z.input<typeof flowControlSchema>;

/** A plugin declared in EndpointPickerConfig `plugins[]` (name defaults to type). */
export interface PluginDeclaration {
  readonly type: string;
  readonly name?: string | undefined;
  readonly parameters?: Readonly<Record<string, unknown>> | undefined;
}

/** One band, resolved. */
export interface BandSettings {
  readonly priorityName: string | undefined;
  readonly maxBytes: number;
  readonly maxRequests: number;
  readonly fairnessPolicy: string;
  readonly orderingPolicy: string;
  readonly queue: string;
  /** Undefined = by priority: DEFAULT_PRIORITY_USAGE_LIMIT above 0, DEFAULT_USAGE_LIMIT otherwise. */
  readonly usageLimit: number | undefined;
}

/** The resolved flow-control configuration the FlowController runs on. */
export interface FlowControlSettings {
  readonly maxBytes: number;
  readonly maxRequests: number;
  /** 0 = no TTL. */
  readonly defaultRequestTTLMs: number;
  readonly defaultBand: BandSettings;
  readonly defaultNegativeBand: BandSettings;
  /** Configured bands by priority. */
  readonly bands: ReadonlyMap<number, BandSettings>;
  readonly detector: DetectorSpec;
  readonly queueSheddable: boolean;
  /** Saturation bands below an active higher band leave free for it. */
  readonly activeReserve: number;
  /** How long (ms) after its last dispatch a band counts as active. */
  readonly activeWindowMs: number;
  /** How long (ms) after a dispatch or completion only its band (and higher) may take the room. */
  readonly reclaimWindowMs: number;
}

/** Usage limit of bands with priority <= 0: the detector's own notion of full (upstream's static limit). */
export const DEFAULT_USAGE_LIMIT = 1;
/**
 * Usage limit of bands with priority > 0 (Critical): 1.25 = the thresholds' headroom (KV 0.8 → 1.0),
 * so Critical requests find room the lower bands were kept out of.
 */
export const DEFAULT_PRIORITY_USAGE_LIMIT = 1.25;
export const DEFAULT_ACTIVE_RESERVE = 0.2;
export const DEFAULT_ACTIVE_WINDOW_MS = 10_000;
/** Longer than a client's turnaround between one request's end and its next request's arrival. */
export const DEFAULT_RECLAIM_WINDOW_MS = 100;

/** Per-band byte limit when none is set: 1 GB, as in the Inference Extension. */
export const DEFAULT_BAND_MAX_BYTES = 1_000_000_000;

/**
 * Validates a raw `flowControl` object (undefined = all defaults) and resolves policy and detector
 * references, by plugin name in `plugins` first, then by type. Throws FlowControlConfigError with
 * paths rooted at `at` (default `flowControl`).
 */
export function parseFlowControl(
  raw: unknown,
  plugins: readonly PluginDeclaration[] = [],
  at: readonly (string | number)[] = ["flowControl"],
): FlowControlSettings {
  const parsed = flowControlSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new FlowControlConfigError(fromZod(at, parsed.error.issues));
  const input = parsed.data;
  const issues: ConfigIssue[] = [];
  const byName = new Map<string, PluginDeclaration>();
  for (const p of plugins) byName.set(p.name ?? p.type, p);
  const refType = (ref: string): string => byName.get(ref)?.type ?? ref;

  const band = (
    b: z.output<typeof defaultBandSchema> | undefined,
    path: (string | number)[],
  ): BandSettings => {
    const fairness = refType(b?.fairnessPolicyRef ?? DEFAULT_FAIRNESS_POLICY);
    const ordering = refType(b?.orderingPolicyRef ?? DEFAULT_ORDERING_POLICY);
    if (!Object.hasOwn(fairnessPolicies, fairness)) {
      issues.push({
        path: [...path, "fairnessPolicyRef"],
        message: `unknown fairness policy "${fairness}" (known: ${Object.keys(fairnessPolicies).join(", ")})`,
      });
    }
    const orderingPolicy = Object.hasOwn(orderingPolicies, ordering) ? orderingPolicies[ordering] : undefined;
    if (!orderingPolicy) {
      issues.push({
        path: [...path, "orderingPolicyRef"],
        message: `unknown ordering policy "${ordering}" (known: ${Object.keys(orderingPolicies).join(", ")})`,
      });
    }
    const queue = b?.queue ?? (orderingPolicy ? defaultQueueFor(orderingPolicy) : "list-queue");
    const kind = Object.hasOwn(queueKinds, queue) ? queueKinds[queue] : undefined;
    if (!kind) {
      issues.push({
        path: [...path, "queue"],
        message: `unknown queue "${queue}" (known: ${Object.keys(queueKinds).join(", ")})`,
      });
    } else if (orderingPolicy && !kind.supports(orderingPolicy)) {
      issues.push({
        path: [...path, "queue"],
        message: `${queue} keeps arrival order and cannot hold ${ordering}; use heap-queue`,
      });
    }
    return {
      priorityName: b?.priorityName,
      maxBytes: b?.maxBytes ?? DEFAULT_BAND_MAX_BYTES,
      maxRequests: b?.maxRequests ?? 0,
      fairnessPolicy: fairness,
      orderingPolicy: ordering,
      queue,
      usageLimit: b?.usageLimit,
    };
  };

  const defaultBand = band(input.defaultPriorityBand, [...at, "defaultPriorityBand"]);
  const defaultNegativeBand = input.defaultNegativePriorityBand
    ? band(input.defaultNegativePriorityBand, [...at, "defaultNegativePriorityBand"])
    : defaultBand;
  const bands = new Map<number, BandSettings>();
  (input.priorityBands ?? []).forEach((b, i) => {
    const path = [...at, "priorityBands", i];
    if (bands.has(b.priority)) {
      issues.push({ path: [...path, "priority"], message: `priority ${b.priority} is configured twice` });
    }
    bands.set(b.priority, band(b, path));
  });

  let detector: DetectorSpec = DEFAULT_DETECTOR;
  const sd = input.saturationDetector;
  if (sd && "pluginRef" in sd) {
    const declared = byName.get(sd.pluginRef);
    if (declared) detector = { type: declared.type, parameters: declared.parameters };
    else detector = { type: sd.pluginRef };
  } else if (sd) {
    detector = { type: sd.type, parameters: sd.parameters };
  }
  try {
    createSaturationDetector(detector, [...at, "saturationDetector"]);
  } catch (e) {
    if (e instanceof FlowControlConfigError) issues.push(...e.issues);
    else throw e;
  }
  if (issues.length > 0) throw new FlowControlConfigError(issues);

  return {
    maxBytes: input.maxBytes ?? 0,
    maxRequests: input.maxRequests ?? 0,
    defaultRequestTTLMs: input.defaultRequestTTL ?? 0,
    defaultBand,
    defaultNegativeBand,
    bands,
    detector,
    queueSheddable: input.queueSheddable ?? false,
    activeReserve: input.activeReserve ?? DEFAULT_ACTIVE_RESERVE,
    activeWindowMs: input.activeWindow ?? DEFAULT_ACTIVE_WINDOW_MS,
    reclaimWindowMs: input.reclaimWindow ?? DEFAULT_RECLAIM_WINDOW_MS,
  };
}
