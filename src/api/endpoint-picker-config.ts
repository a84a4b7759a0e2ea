/**
 * EndpointPickerConfig `inference.networking.x-k8s.io/v1alpha1` (GIE's scheduler plugin YAML:
 * `plugins`, `schedulingProfiles`, ...). Kept raw; scheduling/ interprets it.
 */
import { z } from "zod";
import type { SourcePosition } from "./metadata.ts";

export const endpointPickerConfigSchema = z.looseObject({
  apiVersion: z.literal("inference.networking.x-k8s.io/v1alpha1"),
  kind: z.literal("EndpointPickerConfig"),
  metadata: z.object({ name: z.string().min(1) }).optional(),
  plugins: z.array(z.looseObject({ type: z.string().min(1), name: z.string().optional() })).optional(),
  schedulingProfiles: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
});

/** One EndpointPickerConfig document, as written (minus apiVersion/kind), with where it came from. */
export interface PickerConfigRecord {
  readonly name?: string;
  readonly source: SourcePosition;
  /** The document's top-level fields other than apiVersion and kind. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export function toPickerConfigRecord(
  doc: z.infer<typeof endpointPickerConfigSchema>,
  source: SourcePosition,
): PickerConfigRecord {
  const { apiVersion: _a, kind: _k, ...raw } = doc;
  return { ...(doc.metadata ? { name: doc.metadata.name } : {}), source, raw };
}
