/**
 * The resource kinds the gateway reads, keyed by `apiVersion` + `kind`, and the other kinds of the
 * API groups it knows. A kind of a known group that the gateway does not read (GatewayClass,
 * InferencePoolImport, ...) is accepted, reported once and skipped; a kind that no known group
 * has (`InferenceModle`) is an error. Kinds of other groups (Deployment, Service, ...) are skipped.
 */
import type { z } from "zod";
import { backendTrafficPolicySchema } from "./backend-traffic-policy.ts";
import { endpointPickerConfigSchema } from "./endpoint-picker-config.ts";
import { gatewaySchema } from "./gateway.ts";
import { httpRouteSchema } from "./http-route.ts";
import { inferenceModelSchema } from "./inference-model.ts";
import { inferenceModelRewriteSchema } from "./inference-model-rewrite.ts";
import { inferenceObjectiveSchema } from "./inference-objective.ts";
import { inferencePoolV1alpha2Schema, inferencePoolV1Schema } from "./inference-pool.ts";

const entries: [kind: string, apiVersions: string[], schema: z.ZodType][] = [
  ["InferencePool", ["inference.networking.x-k8s.io/v1alpha2"], inferencePoolV1alpha2Schema],
  ["InferencePool", ["inference.networking.k8s.io/v1"], inferencePoolV1Schema],
  ["InferenceModel", ["inference.networking.x-k8s.io/v1alpha2"], inferenceModelSchema],
  ["InferenceModelRewrite", ["inference.networking.x-k8s.io/v1alpha2"], inferenceModelRewriteSchema],
  [
    "InferenceObjective",
    ["inference.networking.x-k8s.io/v1alpha2", "inference.networking.k8s.io/v1alpha1"],
    inferenceObjectiveSchema,
  ],
  ["Gateway", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"], gatewaySchema],
  ["HTTPRoute", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"], httpRouteSchema],
  ["BackendTrafficPolicy", ["gateway.envoyproxy.io/v1alpha1"], backendTrafficPolicySchema],
  ["EndpointPickerConfig", ["inference.networking.x-k8s.io/v1alpha1"], endpointPickerConfigSchema],
];

/** Every kind of the groups the gateway knows (upstream's lists), read or not. */
const GROUP_KINDS: Readonly<Record<string, readonly string[]>> = {
  "inference.networking.x-k8s.io": [
    "InferencePool",
    "InferenceModel",
    "InferenceObjective",
    "InferenceModelRewrite",
    "InferencePoolImport",
    "EndpointPickerConfig",
  ],
  "inference.networking.k8s.io": ["InferencePool", "InferenceObjective"],
  "gateway.networking.k8s.io": [
    "GatewayClass",
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "UDPRoute",
    "ReferenceGrant",
    "BackendTLSPolicy",
    "ListenerSet",
  ],
  "gateway.envoyproxy.io": [
    "BackendTrafficPolicy",
    "ClientTrafficPolicy",
    "SecurityPolicy",
    "EnvoyProxy",
    "EnvoyPatchPolicy",
    "EnvoyExtensionPolicy",
    "Backend",
    "HTTPRouteFilter",
  ],
};

/** A document of a kind the gateway reads, as its schema parsed it (`kind` tells which). */
export type KnownDoc =
  | z.infer<typeof inferencePoolV1alpha2Schema>
  | z.infer<typeof inferencePoolV1Schema>
  | z.infer<typeof inferenceModelSchema>
  | z.infer<typeof inferenceModelRewriteSchema>
  | z.infer<typeof inferenceObjectiveSchema>
  | z.infer<typeof gatewaySchema>
  | z.infer<typeof httpRouteSchema>
  | z.infer<typeof backendTrafficPolicySchema>
  | z.infer<typeof endpointPickerConfigSchema>;

/** The schema for `apiVersion kind`, or undefined when the pair is not read by the gateway. */
export function schemaFor(apiVersion: string, kind: string): z.ZodType | undefined {
  return entries.find(([k, vs]) => k === kind && vs.includes(apiVersion))?.[2];
}

/** apiVersions the gateway reads for a kind; empty when the kind is not one it acts on. */
export function supportedApiVersions(kind: string): string[] {
  return entries.filter(([k]) => k === kind).flatMap(([, vs]) => vs);
}

/** The kinds of `apiVersion`'s group when the gateway knows that group (else undefined). */
export function knownKindsOfGroup(apiVersion: string): readonly string[] | undefined {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? undefined : GROUP_KINDS[apiVersion.slice(0, slash)];
}

/** Every kind the gateway reads (for "did you mean" on a misspelt kind). */
export function readKinds(): string[] {
  return [...new Set(entries.map(([k]) => k))];
}
