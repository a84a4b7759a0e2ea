/** Envoy header maps in, header mutations out (values travel as `raw_value` bytes, UTF-8). */
import { type HeaderMap, type HeaderMutation, OVERWRITE_IF_EXISTS_OR_ADD } from "./protocol.ts";

/** A decoded header map: pseudo-headers (`:path`, `:status`, ...) apart from the others. */
export interface SplitHeaders {
  readonly pseudo: Record<string, string>;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
}

/** Splits Envoy's header map; a value comes from `raw_value`, else `value`. */
export function readHeaderMap(map: HeaderMap | undefined): SplitHeaders {
  const pseudo: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const h of map?.headers ?? []) {
    if (!h.key) continue;
    const name = h.key.toLowerCase();
    const value = h.rawValue && h.rawValue.length > 0 ? h.rawValue.toString("utf8") : (h.value ?? "");
    const into = name.startsWith(":") ? pseudo : headers;
    const prev = into[name];
    into[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return { pseudo, headers };
}

/** A mutation that overwrites (or adds) `set` and removes `remove`; undefined when it changes nothing. */
export function headerMutation(
  set: Readonly<Record<string, string>>,
  remove: readonly string[] = [],
): HeaderMutation | undefined {
  const setHeaders = Object.entries(set).map(([key, value]) => ({
    header: { key, rawValue: Buffer.from(value, "utf8") },
    appendAction: OVERWRITE_IF_EXISTS_OR_ADD,
  }));
  if (setHeaders.length === 0 && remove.length === 0) return undefined;
  return {
    ...(setHeaders.length > 0 ? { setHeaders } : {}),
    ...(remove.length > 0 ? { removeHeaders: [...remove] } : {}),
  };
}
