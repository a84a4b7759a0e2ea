/**
 * One complete, validated configuration: what config/ builds from manifests and the datastore
 * swaps in atomically. Immutable once built.
 */
import type { TrafficPolicyRecord } from "../api/backend-traffic-policy.ts";
import type { PickerConfigRecord } from "../api/endpoint-picker-config.ts";
import type { GatewayRecord, ListenerRecord } from "../api/gateway.ts";
import type { RouteRecord } from "../api/http-route.ts";
import type { ModelRecord } from "../api/inference-model.ts";
import type { PoolRewrites } from "../api/inference-model-rewrite.ts";
import type { ObjectiveRecord } from "../api/inference-objective.ts";
import type { PoolRecord } from "../api/inference-pool.ts";
import type { SourcePosition } from "../api/metadata.ts";

/** A document of a kind the gateway does not act on (reported once, then skipped). */
export interface IgnoredDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly source: SourcePosition;
}

/** Key of the implicit listener used when no Gateway is configured (port from --port or 8081). */
export const IMPLICIT_LISTENER_KEY = "*";

export interface ConfigSnapshot {
  /** Pools by `namespace/name`. */
  readonly pools: ReadonlyMap<string, PoolRecord>;
  /** Accepted InferenceModels: pool key → client model name → record (oldest wins per name). */
  readonly models: ReadonlyMap<string, ReadonlyMap<string, ModelRecord>>;
  /** InferenceObjectives: pool key → objective name → record. */
  readonly objectives: ReadonlyMap<string, ReadonlyMap<string, ObjectiveRecord>>;
  /** InferenceModelRewrite rules: pool key → the winning rule per model name (pools without any absent). */
  readonly rewrites: ReadonlyMap<string, PoolRewrites>;
  readonly gateways: readonly GatewayRecord[];
  /** HTTP listeners the gateway serves (the implicit one when there is no Gateway). */
  readonly listeners: readonly ListenerRecord[];
  /** Routes in precedence tie-break order (oldest first, then namespace/name). */
  readonly routes: readonly RouteRecord[];
  readonly policies: readonly TrafficPolicyRecord[];
  /** EndpointPickerConfig documents, for scheduling/. */
  readonly pickerConfigs: readonly PickerConfigRecord[];
  readonly ignored: readonly IgnoredDocument[];
  /** Non-fatal findings (e.g. a modelName already used in its pool); logged on load. */
  readonly warnings: readonly string[];
}
