/**
 * The gateway's registry: scheduling's and flow control's built-in plugins together, so that one
 * EndpointPickerConfig `plugins` list may declare any of them and every reference is checked
 * against its kind. The one place the families meet (each lists its own plugins).
 */
import { FLOW_CONTROL_PLUGINS, type FlowControlPlugins } from "../flowcontrol/builtin-plugins.ts";
import { SCHEDULING_PLUGINS, type SchedulingPlugins } from "../scheduling/plugins/builtin-plugins.ts";
import { PluginRegistry } from "./registry.ts";

/** Every kind the gateway knows, with its instances' interface. */
export type GatewayPlugins = SchedulingPlugins & FlowControlPlugins;

/** The built-in plugins of every kind; immutable, shared. */
export const BUILTIN_REGISTRY: PluginRegistry<GatewayPlugins> = new PluginRegistry<GatewayPlugins>([
  ...SCHEDULING_PLUGINS,
  ...FLOW_CONTROL_PLUGINS,
]);
