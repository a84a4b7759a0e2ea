/**
 * Finds the flow-control part of the EndpointPickerConfig documents: the `flowControl` section and
 * the top-level `saturationDetector` reference, with the `plugins` list their references resolve
 * against. The first document (in load order) that has either applies to every pool.
 */
import type { PluginSpec } from "../plugins/registry.ts";
import { type FlowControlSettings, parseFlowControl } from "./config.ts";

/** An EndpointPickerConfig document's top-level fields (apiVersion/kind removed). */
export type PickerConfigRaw = Readonly<Record<string, unknown>>;

/** The flow-control fields of one EndpointPickerConfig, untouched. */
export interface FlowControlSection {
  readonly flowControl: unknown;
  readonly saturationDetector: unknown;
  readonly plugins: readonly PluginSpec[];
}

/** Index of the document whose section applies: the first with `flowControl` or `saturationDetector`; -1 when none. */
export function flowControlDocument(configs: readonly { readonly raw: PickerConfigRaw }[]): number {
  return configs.findIndex(
    (c) => c.raw["flowControl"] !== undefined || c.raw["saturationDetector"] !== undefined,
  );
}

/** The section that applies (flowControlDocument's); undefined when no document has one. */
export function flowControlSection(
  configs: readonly { readonly raw: PickerConfigRaw }[],
): FlowControlSection | undefined {
  const doc = configs[flowControlDocument(configs)];
  if (!doc) return undefined;
  const plugins = Array.isArray(doc.raw["plugins"]) ? (doc.raw["plugins"] as PluginSpec[]) : [];
  return { flowControl: doc.raw["flowControl"], saturationDetector: doc.raw["saturationDetector"], plugins };
}

/**
 * Resolves a section into settings (all defaults when undefined). A top-level `saturationDetector`
 * applies when `flowControl` names none. Throws FieldIssueError with paths from the document root.
 */
export function settingsFromSection(section: FlowControlSection | undefined): FlowControlSettings {
  if (!section) return parseFlowControl(undefined);
  return parseFlowControl(section.flowControl, section.plugins, ["flowControl"], {
    saturationDetector: section.saturationDetector,
  });
}
