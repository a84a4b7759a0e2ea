/**
 * The resource kinds the gateway reads, keyed by `apiVersion` + `kind`. Any other kind
 * (Deployment, Service, GatewayClass, ...) is accepted, reported once and skipped.
 */
import type { z } from "zod";
import { backendTrafficPolicySchema } from "./backend-traffic-policy.ts";
import { endpointPickerConfigSchema } from "./endpoint-picker-config.ts";
import { gatewaySchema } from "./gateway.ts";
import { httpRouteSchema } from "./http-route.ts";
import { inferenceModelSchema } from "./inference-model.ts";
import { inferenceObjectiveSchema } from "./inference-objective.ts";
import { inferencePoolV1alpha2Schema, inferencePoolV1Schema } from "./inference-pool.ts";

const entries: [kind: string, apiVersions: string[], schema: z.ZodType][] = [
  ["InferencePool", ["inference.networking.x-k8s.io/v1alpha2"], inferencePoolV1alpha2Schema],
  ["InferencePool", ["inference.networking.k8s.io/v1"], inferencePoolV1Schema],
  ["InferenceModel", ["inference.networking.x-k8s.io/v1alpha2"], inferenceModelSchema],
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

/** The schema for `apiVersion kind`, or undefined when the pair is not read by the gateway. */
export function schemaFor(apiVersion: string, kind: string): z.ZodType | undefined {
  return entries.find(([k, vs]) => k === kind && vs.includes(apiVersion))?.[2];
}

/** apiVersions the gateway reads for a kind; empty when the kind is not one it acts on. */
export function supportedApiVersions(kind: string): string[] {
  return entries.filter(([k]) => k === kind).flatMap(([, vs]) => vs);
}
