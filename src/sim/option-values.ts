import { parseKvEventsConfig } from "./kv-events-config.ts";
import type { OptionSpec } from "./option-table.ts";
import type { LoraModule } from "./options.ts";

/** A bad option value or name; message says which option and why. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

/** Parses `name=path` or vLLM's JSON form `{"name": ..., "path": ...}`. */
export function parseLoraModule(s: string): LoraModule {
  const t = s.trim();
  if (t.startsWith("{")) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      throw new OptionError(`--lora-modules: invalid JSON ${JSON.stringify(s)}`);
    }
    const o = v as { name?: unknown; path?: unknown };
    if (typeof o.name !== "string" || typeof o.path !== "string") {
      throw new OptionError(`--lora-modules: JSON form needs string "name" and "path": ${s}`);
    }
    return { name: o.name, path: o.path };
  }
  const eq = t.indexOf("=");
  if (eq <= 0 || eq === t.length - 1)
    throw new OptionError(`--lora-modules: expected name=path, got ${JSON.stringify(s)}`);
  return { name: t.slice(0, eq), path: t.slice(eq + 1) };
}

/**
 * Converts a raw value (a CLI string, or a YAML scalar/sequence) to the option's type, checking
 * range and choices. Throws OptionError naming the option.
 */
export function coerceOption(spec: OptionSpec, raw: unknown): unknown {
  const flag = `--${spec.name}`;
  switch (spec.kind) {
    case "kv-events-config":
      return parseKvEventsConfig(raw);
    case "string":
      if (typeof raw !== "string" && typeof raw !== "number")
        throw new OptionError(`${flag}: expected a string`);
      return String(raw);
    case "choice": {
      const s = String(raw);
      if (!spec.choices!.includes(s))
        throw new OptionError(
          `${flag}: expected one of ${spec.choices!.join(", ")}, got ${JSON.stringify(s)}`,
        );
      return s;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      const s = String(raw).toLowerCase();
      if (s === "true" || s === "1" || s === "yes") return true;
      if (s === "false" || s === "0" || s === "no") return false;
      throw new OptionError(`${flag}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : Number(String(raw).trim());
      if (typeof raw === "string" && raw.trim() === "") throw new OptionError(`${flag}: expected a number`);
      if (!Number.isFinite(n))
        throw new OptionError(`${flag}: expected a number, got ${JSON.stringify(raw)}`);
      if (spec.kind === "int" && !Number.isInteger(n))
        throw new OptionError(`${flag}: expected an integer, got ${n}`);
      if (spec.min !== undefined && n < spec.min)
        throw new OptionError(`${flag}: must be >= ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max)
        throw new OptionError(`${flag}: must be <= ${spec.max}, got ${n}`);
      return n;
    }
    case "list": {
      const items = Array.isArray(raw) ? raw : [raw];
      const strs: string[] = [];
      for (const it of items) {
        if (spec.key === "loraModules" && typeof it === "object" && it !== null) {
          strs.push(JSON.stringify(it));
          continue;
        }
        if (typeof it !== "string" && typeof it !== "number")
          throw new OptionError(`${flag}: expected a list of strings`);
        const s = String(it);
        if (spec.key === "failureTypes") strs.push(...s.split(",").filter((x) => x.length > 0));
        else strs.push(s);
      }
      if (spec.key === "loraModules") return strs.map(parseLoraModule);
      return strs;
    }
  }
}
