/**
 * What a pool does about failing engines: outlier detection (Envoy's consecutive-5xx and
 * consecutive-gateway-failure ejection), which answers besides 5xx are retried on another engine,
 * and how long a request waits for a pool that has no endpoint. Three optional top-level sections
 * of an EndpointPickerConfig (`outlierDetection`, `retry`, `noEndpointTTL`); the document that
 * applies to a pool is the one its endpoint-picker reference names, else the first that has any of
 * them. Without one, every pool gets the defaults below.
 */
import { z } from "zod";
import type { PickerConfigRecord } from "../api/endpoint-picker-config.ts";
import type { PoolRecord } from "../api/inference-pool.ts";
import type { FieldIssue } from "../config/field-issue.ts";
import { durationSchema } from "../flowcontrol/quantity-schemas.ts";
import { fieldIssuesFromZod } from "../plugins/zod-issues.ts";

/** Envoy's OutlierDetection fields the gateway implements, in ms where they are durations. */
export interface OutlierSettings {
  /** Consecutive 5xx answers or failed connections that eject an endpoint; 0 = off. */
  readonly consecutive5xx: number;
  /** Consecutive 502/503/504 answers or failed connections that eject an endpoint; 0 = off. */
  readonly consecutiveGatewayFailure: number;
  /** Sweep period: ejected endpoints whose time is up return; the ejection count decays by one. */
  readonly intervalMs: number;
  /** An ejection lasts this times the endpoint's ejection count... */
  readonly baseEjectionTimeMs: number;
  /** ...but at most this (or baseEjectionTime, when larger). */
  readonly maxEjectionTimeMs: number;
  /** Ejected share of a pool's endpoints that outlier detection never exceeds, except for the first one; 0 = never eject. */
  readonly maxEjectionPercent: number;
}

/** A pool's failure handling, resolved. */
export interface FailurePolicy {
  readonly outlier: OutlierSettings;
  /** Answers below 500 retried on another endpoint (while attempts are left), like 5xx. */
  readonly retriableStatusCodes: ReadonlySet<number>;
  /** How long a request waits for an endpoint when its pool has none, then 503; 0 = answer 503 at once. */
  readonly noEndpointTTLMs: number;
}

/** Envoy's defaults, except consecutiveGatewayFailure (Envoy counts it but enforces it 0% by default). */
export const DEFAULT_OUTLIER: OutlierSettings = {
  consecutive5xx: 5,
  consecutiveGatewayFailure: 0,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
};

/** Long enough for a pool scaled to zero to get its first endpoint; short enough to be an answer. */
export const DEFAULT_NO_ENDPOINT_TTL_MS = 30_000;

export const DEFAULT_FAILURE_POLICY: FailurePolicy = {
  outlier: DEFAULT_OUTLIER,
  retriableStatusCodes: new Set([429]),
  noEndpointTTLMs: DEFAULT_NO_ENDPOINT_TTL_MS,
};

const count = z.number().int("must be a whole number").min(0);
const positiveDuration = durationSchema.refine((ms) => ms > 0, "must be longer than 0");

const outlierSchema = z.strictObject({
  consecutive5xx: count.optional(),
  consecutiveGatewayFailure: count.optional(),
  interval: positiveDuration.optional(),
  baseEjectionTime: positiveDuration.optional(),
  maxEjectionTime: positiveDuration.optional(),
  maxEjectionPercent: z.number().min(0).max(100).optional(),
});

const retrySchema = z.strictObject({
  retriableStatusCodes: z
    .array(z.number().int().min(400, "must be a status 400-499").max(499, "must be a status 400-499"))
    .optional(),
});

/** The top-level fields of an EndpointPickerConfig this module reads. */
export const FAILURE_POLICY_FIELDS = ["outlierDetection", "retry", "noEndpointTTL"] as const;

function hasSection(raw: Readonly<Record<string, unknown>>): boolean {
  return FAILURE_POLICY_FIELDS.some((f) => raw[f] !== undefined);
}

/** Problems of one document's failure-policy sections (paths from the document root); empty when valid. */
export function failurePolicyIssues(raw: Readonly<Record<string, unknown>>): FieldIssue[] {
  return parse(raw).issues;
}

/** The policy that applies to `pool` (see the module comment); defaults for what a section leaves out. */
export function failurePolicyFor(
  pool: PoolRecord,
  pickerConfigs: readonly PickerConfigRecord[],
): FailurePolicy {
  const named = pool.endpointPicker?.name;
  const doc =
    (named === undefined ? undefined : pickerConfigs.find((c) => c.name === named && hasSection(c.raw))) ??
    pickerConfigs.find((c) => hasSection(c.raw));
  // Validated when the configuration was loaded, so a parse issue here cannot happen.
  return doc === undefined ? DEFAULT_FAILURE_POLICY : parse(doc.raw).policy;
}

function parse(raw: Readonly<Record<string, unknown>>): { policy: FailurePolicy; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const section = <T>(field: string, schema: z.ZodType<T>): T | undefined => {
    if (raw[field] === undefined) return undefined;
    const r = schema.safeParse(raw[field]);
    if (r.success) return r.data;
    issues.push(...fieldIssuesFromZod([field], r.error.issues));
    return undefined;
  };
  const o = section("outlierDetection", outlierSchema) ?? {};
  const retry = section("retry", retrySchema) ?? {};
  const ttl = section("noEndpointTTL", durationSchema);
  const d = DEFAULT_OUTLIER;
  const policy: FailurePolicy = {
    outlier: {
      consecutive5xx: o.consecutive5xx ?? d.consecutive5xx,
      consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? d.consecutiveGatewayFailure,
      intervalMs: o.interval ?? d.intervalMs,
      baseEjectionTimeMs: o.baseEjectionTime ?? d.baseEjectionTimeMs,
      maxEjectionTimeMs: o.maxEjectionTime ?? d.maxEjectionTimeMs,
      maxEjectionPercent: o.maxEjectionPercent ?? d.maxEjectionPercent,
    },
    retriableStatusCodes: retry.retriableStatusCodes
      ? new Set(retry.retriableStatusCodes)
      : DEFAULT_FAILURE_POLICY.retriableStatusCodes,
    noEndpointTTLMs: ttl ?? DEFAULT_NO_ENDPOINT_TTL_MS,
  };
  return { policy, issues };
}
