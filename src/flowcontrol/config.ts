/**
 * The `flowControl` section of EndpointPickerConfig (same fields as the Inference Extension's),
 * validated with zod and resolved against the plugin registry into FlowControlSettings.
 * Every problem is reported with its field path (`flowControl.priorityBands[0].maxBytes: ...`).
 */
import { z } from "zod";
import { type FieldIssue, FieldIssueError, type FieldPath, prefixIssues } from "../config/field-issue.ts";
import { BUILTIN_REGISTRY } from "../plugins/builtin-registry.ts";
import type { PluginSpec } from "../plugins/registry.ts";
import { fieldIssuesFromZod } from "../plugins/zod-issues.ts";
import {
  DEFAULT_DETECTOR,
  DEFAULT_FAIRNESS_POLICY,
  DEFAULT_ORDERING_POLICY,
  defaultQueueFor,
  type FlowControlPlugins,
} from "./builtin-plugins.ts";
import { durationSchema, quantitySchema } from "./quantity-schemas.ts";

const bandFields = {
  priorityName: z.string().min(1).optional(),
  /** Bytes of queued requests this band holds (default 256 MiB; 0 = unlimited). */
  maxBytes: quantitySchema.optional(),
  /** Requests this band holds (default 1000; 0 = unlimited). */
  maxRequests: quantitySchema.optional(),
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
/** A detector: a plugin declared in `plugins` by name (or a type), or inline. */
const detectorRefSchema = z.union([pluginRefSchema, inlinePluginSchema]);

/** The raw `flowControl` section schema (before registry resolution). */
export const flowControlSchema = z
  .object({
    /** Bytes of all queued request bodies (0 = unlimited, the default). */
    maxBytes: quantitySchema.optional(),
    /** Queued requests in all bands (0 = unlimited, the default). */
    maxRequests: quantitySchema.optional(),
    /** Time a request may wait before 503 (default 30s; 0 = until the client gives up). */
    defaultRequestTTL: durationSchema.optional(),
    defaultPriorityBand: defaultBandSchema.optional(),
    defaultNegativePriorityBand: defaultBandSchema.optional(),
    priorityBands: z.array(bandSchema).optional(),
    saturationDetector: detectorRefSchema.optional(),
    /** Extension: queue negative priorities too (default false: shed them with 429 when saturated). */
    queueSheddable: z.boolean().optional(),
    /** Extension: saturation that bands below an active higher band leave free (default 0.2). */
    activeReserve: z.number().min(0).optional(),
    /** Extension: a band is active when it dispatched within this duration (default 10s). */
    activeWindow: durationSchema.optional(),
    /** Extension: projected KV use (a fraction of the pool's KV) below which bands under a busy higher band dispatch (default 1; 0 = off). */
    activeKvLimit: z.number().min(0).optional(),
    /** Extension: after a dispatch or completion, lower bands wait this long so its band takes the room first (default 100ms). */
    reclaimWindow: durationSchema.optional(),
  })
  .strict();

export type FlowControlInput = z.input<typeof flowControlSchema>;

/** One band, resolved. Policies and queue are plugin specs, built per band by PriorityBand. */
export interface BandSettings {
  readonly priorityName: string | undefined;
  readonly maxBytes: number;
  readonly maxRequests: number;
  readonly fairnessPolicy: PluginSpec;
  readonly orderingPolicy: PluginSpec;
  readonly queue: PluginSpec;
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
  readonly detector: PluginSpec;
  readonly queueSheddable: boolean;
  /** Saturation bands below an active higher band leave free for it. */
  readonly activeReserve: number;
  /** How long (ms) after its last dispatch a band counts as active. */
  readonly activeWindowMs: number;
  /** Projected KV use at which bands below an active or waiting higher band stop; 0 = no such limit. */
  readonly activeKvLimit: number;
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
/**
 * The same default in a pool whose servers schedule by vLLM's `priority` (engine-priority
 * annotation): there a Critical request sent to a busy server overtakes the lower-priority work
 * queued in it, so holding it in the gateway only adds delay; it waits here only when the pool is
 * far past full (bounding what piles up in the servers).
 */
export const DEFAULT_ENGINE_PRIORITY_USAGE_LIMIT = 2;
export const DEFAULT_ACTIVE_RESERVE = 0.2;
export const DEFAULT_ACTIVE_WINDOW_MS = 10_000;
/**
 * Projected KV use (saturation/projected-kv.ts) at which lower bands stop while a higher band is
 * active or waiting: 1 = the in-flight requests' mean KV footprints fill the pool's KV, so what the
 * lower band adds would grow into the blocks the higher band's next requests need.
 */
export const DEFAULT_ACTIVE_KV_LIMIT = 1;
/** Longer than a client's turnaround between one request's end and its next request's arrival. */
export const DEFAULT_RECLAIM_WINDOW_MS = 100;

/**
 * Bounded by default (issue 13): per band 256 MiB of queued requests (the Inference Extension's
 * 1 GB let a few bands hold gigabytes), at most 1000 requests, and a 30 s wait. Each is
 * overridable; 0 = unlimited.
 */
export const DEFAULT_BAND_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BAND_MAX_REQUESTS = 1000;
export const DEFAULT_REQUEST_TTL_MS = 30_000;

type FlowControlKind = keyof FlowControlPlugins;

/** Each kind as error messages name it. */
const KIND_NAMES: Readonly<Record<FlowControlKind, string>> = {
  "saturation-detector": "saturation detector",
  "fairness-policy": "fairness policy",
  "ordering-policy": "ordering policy",
  queue: "queue",
};

/**
 * Validates a raw `flowControl` object (undefined = all defaults) and resolves its policy, queue
 * and detector references against the plugin registry: by instance name in `plugins` (the
 * document's list) first, then by type. `outer.saturationDetector` is the document's top-level
 * detector reference, used when the section names none. Throws FieldIssueError listing every
 * problem, with paths from the document root (the section at `at`, default `flowControl`).
 */
export function parseFlowControl(
  raw: unknown,
  plugins: readonly PluginSpec[] = [],
  at: FieldPath = ["flowControl"],
  outer: { readonly saturationDetector?: unknown } = {},
): FlowControlSettings {
  const parsed = flowControlSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new FieldIssueError(fieldIssuesFromZod(at, parsed.error.issues, flowControlSchema));
  const input = parsed.data;
  const issues: FieldIssue[] = [];
  const declared = new Map<string, { spec: PluginSpec; index: number }>();
  plugins.forEach((spec, index) => {
    declared.set(spec.name ?? spec.type, { spec, index });
  });

  /**
   * Builds what `ref` (at `path`) names as a plugin of `kind`, to check it; undefined after an
   * issue. A declared plugin's own problems are reported where it is declared.
   */
  const resolve = <K extends FlowControlKind>(
    ref: string | PluginSpec,
    kind: K,
    path: FieldPath,
  ): { spec: PluginSpec; plugin: FlowControlPlugins[K] } | undefined => {
    const found = typeof ref === "string" ? declared.get(ref) : undefined;
    const spec = typeof ref !== "string" ? ref : (found?.spec ?? { type: ref });
    try {
      return { spec, plugin: BUILTIN_REGISTRY.create(spec, kind, KIND_NAMES[kind]) };
    } catch (e) {
      if (!(e instanceof FieldIssueError)) throw e;
      for (const i of e.issues) {
        // The type is the reference's problem; anything else is the declaration's.
        const typeIssue = i.path.length === 1 && i.path[0] === "type" && typeof ref === "string";
        const where = typeIssue ? [...path] : found ? ["plugins", found.index] : [...path];
        issues.push(...prefixIssues(where, [typeIssue ? { path: [], message: i.message } : i]));
      }
      return undefined;
    }
  };

  const band = (b: z.output<typeof defaultBandSchema> | undefined, path: FieldPath): BandSettings => {
    const fairness = resolve(b?.fairnessPolicyRef ?? DEFAULT_FAIRNESS_POLICY, "fairness-policy", [
      ...path,
      "fairnessPolicyRef",
    ]);
    const ordering = resolve(b?.orderingPolicyRef ?? DEFAULT_ORDERING_POLICY, "ordering-policy", [
      ...path,
      "orderingPolicyRef",
    ]);
    const queuePath = [...path, "queue"];
    const queue = resolve(
      b?.queue ?? (ordering ? defaultQueueFor(ordering.plugin) : { type: "list-queue" }),
      "queue",
      queuePath,
    );
    if (queue && ordering && !queue.plugin.supports(ordering.plugin)) {
      issues.push({
        path: queuePath,
        message: `${queue.spec.type} keeps arrival order and cannot hold ${ordering.spec.type}; use heap-queue`,
      });
    }
    return {
      priorityName: b?.priorityName,
      maxBytes: b?.maxBytes ?? DEFAULT_BAND_MAX_BYTES,
      maxRequests: b?.maxRequests ?? DEFAULT_BAND_MAX_REQUESTS,
      fairnessPolicy: fairness?.spec ?? DEFAULT_FAIRNESS_POLICY,
      orderingPolicy: ordering?.spec ?? DEFAULT_ORDERING_POLICY,
      queue: queue?.spec ?? { type: "list-queue" },
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

  const detector = detectorRef(input.saturationDetector, at, outer.saturationDetector, issues);
  const resolved = detector && resolve(detector.ref, "saturation-detector", detector.path);
  if (issues.length > 0) throw new FieldIssueError(issues);

  return {
    maxBytes: input.maxBytes ?? 0,
    maxRequests: input.maxRequests ?? 0,
    defaultRequestTTLMs: input.defaultRequestTTL ?? DEFAULT_REQUEST_TTL_MS,
    defaultBand,
    defaultNegativeBand,
    bands,
    detector: resolved?.spec ?? DEFAULT_DETECTOR,
    queueSheddable: input.queueSheddable ?? false,
    activeReserve: input.activeReserve ?? DEFAULT_ACTIVE_RESERVE,
    activeWindowMs: input.activeWindow ?? DEFAULT_ACTIVE_WINDOW_MS,
    activeKvLimit: input.activeKvLimit ?? DEFAULT_ACTIVE_KV_LIMIT,
    reclaimWindowMs: input.reclaimWindow ?? DEFAULT_RECLAIM_WINDOW_MS,
  };
}

/**
 * Which detector the section uses, and where its reference is written: the section's own
 * `saturationDetector`, else the document's top-level one (validated here), else undefined (the
 * default). A `pluginRef` stays a name; an inline `{type, parameters}` is a spec.
 */
function detectorRef(
  inner: z.output<typeof detectorRefSchema> | undefined,
  at: FieldPath,
  outer: unknown,
  issues: FieldIssue[],
): { ref: string | PluginSpec; path: FieldPath } | undefined {
  let ref = inner;
  let path: FieldPath = [...at, "saturationDetector"];
  if (ref === undefined && outer !== undefined) {
    path = ["saturationDetector"];
    const parsed = detectorRefSchema.safeParse(outer);
    if (!parsed.success) {
      issues.push(...fieldIssuesFromZod(path, parsed.error.issues));
      return undefined;
    }
    ref = parsed.data;
  }
  if (ref === undefined) return undefined;
  return { ref: "pluginRef" in ref ? ref.pluginRef : ref, path };
}
