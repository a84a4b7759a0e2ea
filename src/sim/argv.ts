import { IGNORED_VLLM_OPTIONS, OPTION_SPECS, type OptionSpec } from "./option-table.ts";
import { coerceOption, OptionError } from "./option-values.ts";
import type { SimOptions } from "./options.ts";

/** What the command line said: explicit option values, the --config file, whether help was asked. */
export interface ParsedArgs {
  values: Partial<SimOptions>;
  configFile: string | undefined;
  help: boolean;
  /** Ignored vLLM options that were given (for a notice). */
  ignored: string[];
}

const BY_NAME = new Map<string, OptionSpec>(OPTION_SPECS.map((s) => [s.name, s]));

/**
 * Parses `igw sim` arguments with vLLM's conventions: `--a-b` and `--a_b` are the same option,
 * `--x=v` or `--x v`, booleans as `--x` / `--no-x`, list options take every following non-option
 * argument, and one positional argument is the model (as in `vllm serve MODEL`). Unknown options
 * throw OptionError.
 */
export function parseSimArgs(argv: readonly string[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const out: ParsedArgs = {
    values: values as Partial<SimOptions>,
    configFile: undefined,
    help: false,
    ignored: [],
  };
  let positional: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      if (arg.startsWith("-") && arg.length > 1) throw new OptionError(`unknown option ${arg}`);
      if (positional !== undefined)
        throw new OptionError(
          `unexpected argument ${JSON.stringify(arg)} (model already given as ${JSON.stringify(positional)})`,
        );
      positional = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).replaceAll("_", "-");
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const next = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || (v.startsWith("--") && v.length > 2))
        throw new OptionError(`--${name}: missing value`);
      i++;
      return v;
    };
    if (name === "config") {
      out.configFile = next();
      continue;
    }
    const ignoredTakesValue = IGNORED_VLLM_OPTIONS.get(name);
    if (ignoredTakesValue !== undefined) {
      if (ignoredTakesValue) next();
      out.ignored.push(`--${name}`);
      continue;
    }
    let spec = BY_NAME.get(name);
    let negated = false;
    if (spec === undefined && name.startsWith("no-")) {
      spec = BY_NAME.get(name.slice(3));
      negated = spec?.kind === "bool";
      if (!negated) spec = undefined;
    }
    if (spec === undefined) throw new OptionError(`unknown option --${name} (see igw sim --help)`);
    if (spec.kind === "bool") {
      values[spec.key] = negated ? false : inline === undefined ? true : coerceOption(spec, inline);
    } else if (spec.kind === "list") {
      const items: string[] = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith("--"))
        items.push(argv[++i]!);
      if (items.length === 0) throw new OptionError(`--${name}: missing value`);
      values[spec.key] = coerceOption(spec, items);
    } else {
      values[spec.key] = coerceOption(spec, next());
    }
  }
  if (positional !== undefined) {
    if (values["model"] !== undefined && values["model"] !== positional) {
      throw new OptionError(
        `model given twice: ${JSON.stringify(positional)} and --model ${JSON.stringify(values["model"])}`,
      );
    }
    values["model"] = positional;
  }
  return out;
}

/** Help text generated from the option table. */
export function simHelp(): string {
  const lines = [
    "Usage: igw sim [MODEL] [options]",
    "",
    "Serve simulated vLLM engines (vLLM's HTTP API, SSE framing and metrics).",
    "Options use vLLM's names; --a_b equals --a-b; booleans also take --no-<name>.",
    "",
    "  --config FILE".padEnd(36) + "YAML file with the same options (kebab-case keys); flags override it",
  ];
  for (const s of OPTION_SPECS) {
    const arg = s.kind === "bool" ? "" : s.kind === "list" ? " V..." : " V";
    lines.push(`  --${s.name}${arg}`.padEnd(36) + s.help);
  }
  lines.push(
    "",
    `Accepted and ignored vLLM options: ${[...IGNORED_VLLM_OPTIONS.keys()].map((k) => `--${k}`).join(" ")}`,
  );
  return lines.join("\n");
}
