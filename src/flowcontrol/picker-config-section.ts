/**
 * Finds the flow-control part of the EndpointPickerConfig documents: the `flowControl` section and
 * the top-level `saturationDetector` reference, with the `plugins` list their references resolve
 * against. The first document (in load order) that has either applies to every pool.
 */
import { type FlowControlSettings, type PluginDeclaration, parseFlowControl } from "./config.ts";

/** An EndpointPickerConfig document's top-level fields (apiVersion/kind removed). */
export type PickerConfigRaw = Readonly<Record<string, unknown>>;

/** The flow-control fields of one EndpointPickerConfig, untouched. */
export interface FlowControlSection {
  readonly flowControl: unknown;
  readonly saturationDetector: unknown;
  readonly plugins: readonly PluginDeclaration[];
}

/** The section of the first document with `flowControl` or `saturationDetector`; undefined when none has. */
export function flowControlSection(
  configs: readonly { readonly raw: PickerConfigRaw }[],
): FlowControlSection | undefined {
  const doc = configs.find(
    (c) => c.raw["flowControl"] !== undefined || c.raw["saturationDetector"] !== undefined,
  );
  if (!doc) return undefined;
  const plugins = Array.isArray(doc.raw["plugins"]) ? (doc.raw["plugins"] as PluginDeclaration[]) : [];
  return { flowControl: doc.raw["flowControl"], saturationDetector: doc.raw["saturationDetector"], plugins };
}

/**
 * Resolves a section into settings (all defaults when undefined). A top-level `saturationDetector`
 * applies when `flowControl` names none. Throws FlowControlConfigError with paths from the document root.
 */
export function settingsFromSection(section: FlowControlSection | undefined): FlowControlSettings {
  if (!section) return parseFlowControl(undefined);
  const fc = section.flowControl;
  const inner = fc !== null && typeof fc === "object" ? (fc as Record<string, unknown>) : undefined;
  if (section.saturationDetector !== undefined && inner?.["saturationDetector"] === undefined) {
    // Validate the top-level reference where it is written (paths from the root), then use it.
    parseFlowControl({ saturationDetector: section.saturationDetector }, section.plugins, []);
    return parseFlowControl({ ...inner, saturationDetector: section.saturationDetector }, section.plugins);
  }
  return parseFlowControl(fc, section.plugins);
}
