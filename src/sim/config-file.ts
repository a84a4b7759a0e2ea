import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { OPTION_SPECS } from "./option-table.ts";
import { coerceOption, OptionError } from "./option-values.ts";
import type { SimOptions } from "./options.ts";

const BY_NAME = new Map(OPTION_SPECS.map((s) => [s.name, s]));

/**
 * Reads a YAML file of simulator options: a mapping whose keys are the CLI option names (kebab-case;
 * underscores accepted). Errors name the file, line, field and reason.
 */
export function loadSimConfigFile(path: string): Partial<SimOptions> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new OptionError(`--config ${path}: cannot read (${(e as Error).message})`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const where = (offset: number | undefined) =>
    `${path}:${offset === undefined ? 1 : lc.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new OptionError(`${where(e.pos[0])}: invalid YAML: ${e.message.split("\n")[0]}`);
  }
  const out: Record<string, unknown> = {};
  if (doc.contents === null) return out;
  if (!isMap(doc.contents))
    throw new OptionError(`${where(doc.contents.range?.[0])}: expected a mapping of option: value`);
  for (const item of doc.contents.items) {
    const keyNode = item.key;
    const key = isScalar(keyNode) ? String(keyNode.value) : "";
    const pos = isScalar(keyNode) ? keyNode.range?.[0] : undefined;
    const name = key.replaceAll("_", "-");
    const spec = BY_NAME.get(name);
    if (spec === undefined) throw new OptionError(`${where(pos)}: field "${key}": unknown option`);
    const raw = (item.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
    try {
      out[spec.key] = coerceOption(spec, raw);
    } catch (e) {
      throw new OptionError(`${where(pos)}: field "${key}": ${(e as Error).message}`);
    }
  }
  return out as Partial<SimOptions>;
}
