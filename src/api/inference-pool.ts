/**
 * InferencePool, both API versions, normalised to one record:
 * `inference.networking.x-k8s.io/v1alpha2` (selector map, targetPortNumber, extensionRef) and
 * `inference.networking.k8s.io/v1` (selector.matchLabels, targetPorts[], endpointPickerRef).
 */
import { z } from "zod";
import { groupSchema, kindSchema, metadataSchema } from "./metadata.ts";

export const POOL_GROUP_V1ALPHA2 = "inference.networking.x-k8s.io";
export const POOL_GROUP_V1 = "inference.networking.k8s.io";

/** Annotation (ACK) that asks for priority queueing (flow control) on this pool. */
export const USE_QUEUEING_ANNOTATION = "inference-epp-env.networking.x-k8s.io/experimental-use-queueing";
/** Annotation (ACK) that asks for the v2 scheduler (queue + kv-cache (+ prefix) scorers, max-score picker). */
export const USE_SCHEDULER_V2_ANNOTATION =
  "inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2";

/**
 * Annotation (extension) for pools whose servers run vLLM with `--scheduling-policy priority`: the
 * gateway then sends vLLM's `priority` field with every request (requestcontrol/engine-priority.ts).
 */
export const ENGINE_PRIORITY_ANNOTATION = "inference-epp-env.networking.x-k8s.io/engine-priority";

/** Every pool annotation the gateway interprets (config/ warns about near misses of these). */
export const POOL_ANNOTATIONS: readonly string[] = [
  USE_QUEUEING_ANNOTATION,
  USE_SCHEDULER_V2_ANNOTATION,
  ENGINE_PRIORITY_ANNOTATION,
];

const port = z.number().int().min(1).max(65535);
const labelMap = z.record(
  z.string().min(1).max(317),
  z
    .string()
    .max(63)
    .regex(
      /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
      "must be a label value (alphanumerics, '-', '_', '.')",
    ),
);
const failureMode = z
  .enum(["FailOpen", "FailClose"])
  .default("FailClose")
  .describe("What the gateway does when the endpoint picker does not answer.");
const pickerService = {
  group: groupSchema.default("").describe('API group of the picker; "" is the core group.'),
  kind: kindSchema.default("Service"),
  name: z.string().min(1).max(253).describe("Name of the endpoint picker's Service."),
};

export const inferencePoolV1alpha2Schema = z.object({
  apiVersion: z.literal(`${POOL_GROUP_V1ALPHA2}/v1alpha2`),
  kind: z.literal("InferencePool"),
  metadata: metadataSchema,
  spec: z.object({
    selector: labelMap
      .refine((m) => Object.keys(m).length > 0, "selector needs at least one label")
      .meta({ minProperties: 1, description: "Labels a model-server Pod of this namespace must carry." }),
    targetPortNumber: port.describe("Port of the model servers."),
    extensionRef: z
      .object({
        ...pickerService,
        portNumber: port.optional().describe("Port of the picker's Service (9002 when unset)."),
        failureMode,
      })
      .optional()
      .describe("The endpoint picker (ext_proc) Service a gateway asks where to send each request."),
  }),
});

export const inferencePoolV1Schema = z.object({
  apiVersion: z.literal(`${POOL_GROUP_V1}/v1`),
  kind: z.literal("InferencePool"),
  metadata: metadataSchema,
  spec: z.object({
    selector: z.object({
      matchLabels: labelMap
        .refine(
          (m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 64,
          "matchLabels needs 1 to 64 labels",
        )
        .meta({
          minProperties: 1,
          maxProperties: 64,
          description: "Labels a model-server Pod of this namespace must carry.",
        }),
    }),
    targetPorts: z
      .array(z.object({ number: port }))
      .min(1)
      .max(8)
      .refine((ps) => new Set(ps.map((p) => p.number)).size === ps.length, "targetPorts must be unique")
      .meta({
        description: "Ports of the model servers; each Pod IP and port is a separate endpoint.",
        "x-kubernetes-list-type": "atomic",
        "x-kubernetes-validations": [
          {
            rule: "self.all(p1, self.exists_one(p2, p1.number == p2.number))",
            message: "targetPorts must be unique",
          },
        ],
      }),
    appProtocol: z
      .enum(["http", "kubernetes.io/h2c"])
      .default("http")
      .describe("Protocol to the model servers: http (HTTP/1.1) or kubernetes.io/h2c."),
    endpointPickerRef: z
      .object({
        ...pickerService,
        port: z.object({ number: port }).optional().describe("Port of the picker's Service."),
        failureMode,
      })
      .optional()
      .describe("The endpoint picker (ext_proc) Service a gateway asks where to send each request."),
  }),
});

/** One pool as the datastore keeps it, whatever API version it was written in. */
export interface PoolRecord {
  /** `namespace/name`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly apiVersion: string;
  /** Labels an endpoint must all carry to belong to the pool. */
  readonly selector: Readonly<Record<string, string>>;
  /** Ports used for endpoints listed without a port; each is a separate endpoint (v1 data-parallel ranks). */
  readonly targetPorts: readonly number[];
  readonly annotations: Readonly<Record<string, string>>;
  /** `experimental-use-queueing: "true"`: the flow-control layer should queue for this pool. */
  readonly useQueueing: boolean;
  /** `experimental-use-scheduler-v2: "true"`: the scheduler should use the v2 scorer profile. */
  readonly useSchedulerV2: boolean;
  /** `engine-priority: "true"`: the servers schedule by vLLM's `priority` field, which the gateway sets. */
  readonly enginePriority: boolean;
  /** extensionRef / endpointPickerRef, kept for reporting (the picker runs in-process here). */
  readonly endpointPicker?: { readonly name: string; readonly failureMode: "FailOpen" | "FailClose" };
  readonly creationTimestamp?: string;
}

function annotationTrue(annotations: Record<string, string>, key: string): boolean {
  return (annotations[key] ?? "").toLowerCase() === "true";
}

/** Normalises either pool version to a PoolRecord. */
export function toPoolRecord(
  doc: z.infer<typeof inferencePoolV1alpha2Schema> | z.infer<typeof inferencePoolV1Schema>,
): PoolRecord {
  const { metadata } = doc;
  const common = {
    key: `${metadata.namespace}/${metadata.name}`,
    name: metadata.name,
    namespace: metadata.namespace,
    apiVersion: doc.apiVersion,
    annotations: metadata.annotations,
    useQueueing: annotationTrue(metadata.annotations, USE_QUEUEING_ANNOTATION),
    useSchedulerV2: annotationTrue(metadata.annotations, USE_SCHEDULER_V2_ANNOTATION),
    enginePriority: annotationTrue(metadata.annotations, ENGINE_PRIORITY_ANNOTATION),
    ...(metadata.creationTimestamp ? { creationTimestamp: String(metadata.creationTimestamp) } : {}),
  };
  if (doc.apiVersion === `${POOL_GROUP_V1ALPHA2}/v1alpha2`) {
    const s = doc.spec;
    return {
      ...common,
      selector: s.selector,
      targetPorts: [s.targetPortNumber],
      ...(s.extensionRef
        ? { endpointPicker: { name: s.extensionRef.name, failureMode: s.extensionRef.failureMode } }
        : {}),
    };
  }
  const s = doc.spec;
  return {
    ...common,
    selector: s.selector.matchLabels,
    targetPorts: s.targetPorts.map((p) => p.number),
    ...(s.endpointPickerRef
      ? { endpointPicker: { name: s.endpointPickerRef.name, failureMode: s.endpointPickerRef.failureMode } }
      : {}),
  };
}
