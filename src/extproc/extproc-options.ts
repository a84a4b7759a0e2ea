/** Settings of the ext_proc adapter (flags of `igw epp`): header names, chunking, limits. */
import { BodySendMode } from "./protocol.ts";

/** The Gateway API Inference Extension's destination header (and metadata key). */
export const DEFAULT_DESTINATION_HEADER = "x-gateway-destination-endpoint";

export interface ExtProcOptions {
  /** Header (and `envoy.lb` metadata key) naming the chosen endpoint; llm-d's Envoys use `x-llm-d-gateway-destination-endpoint`. */
  readonly destinationHeader: string;
  /** Dynamic metadata namespace for the fallback list. */
  readonly metadataNamespace: string;
  /** Filter metadata namespace of the subset hint, and the key within it. */
  readonly subsetNamespace: string;
  readonly subsetKey: string;
  /** Client headers starting with any of these are removed before the upstream sees them. */
  readonly controlHeaderPrefixes: readonly string[];
  /** Largest StreamedBodyResponse chunk we send, bytes (Envoy recommends ≤ 64 KiB). */
  readonly bodyChunkBytes: number;
  /** Largest request body accepted, bytes (413 beyond). */
  readonly bodyLimit: number;
  /** Body modes assumed when Envoy sends no `protocol_config` (Envoy before 1.34). */
  readonly defaultRequestBodyMode: number;
  readonly defaultResponseBodyMode: number;
}

/** Upstream's defaults, with `overrides`; the subset key and control prefixes follow the destination header. */
export function extProcOptions(overrides: Partial<ExtProcOptions> = {}): ExtProcOptions {
  const destinationHeader = (overrides.destinationHeader ?? DEFAULT_DESTINATION_HEADER).toLowerCase();
  return {
    destinationHeader,
    metadataNamespace: "envoy.lb",
    subsetNamespace: "envoy.lb.subset_hint",
    subsetKey: `${destinationHeader}-subset`,
    controlHeaderPrefixes: [...new Set([DEFAULT_DESTINATION_HEADER, destinationHeader])],
    bodyChunkBytes: 62_000,
    bodyLimit: 16 * 1024 * 1024,
    defaultRequestBodyMode: BodySendMode.FULL_DUPLEX_STREAMED,
    defaultResponseBodyMode: BodySendMode.FULL_DUPLEX_STREAMED,
    ...overrides,
    ...(overrides.destinationHeader !== undefined ? { destinationHeader } : {}),
  };
}
