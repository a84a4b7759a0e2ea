/**
 * HTTPRoute `RegularExpression` matches (path, headers, query) with RE2 semantics, as Envoy
 * matches them, in time linear in the input: JavaScript's backtracking RegExp takes exponential
 * time on patterns like `([a-z]+-?)+-v[0-9]+` (19 s for a 34-character value). `re2js` is the
 * pure-JavaScript port of RE2 (no native build); measured against `re2` and `re2-wasm` in
 * docs/benchmarks.md.
 */
import { RE2JS } from "re2js";

/** Why `source` is not an RE2 pattern (e.g. "missing closing ): `(a`"), or undefined when it is. */
export function routeRegexProblem(source: string): string | undefined {
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^error parsing regexp: /, "");
  }
}

/**
 * Longest value a RegularExpression is run on: 16 KiB, Node's limit for a whole header block.
 * Only the body-derived model header can be longer (up to the body limit), and matching even
 * linearly at ~18 ns a character would then hold the event loop for a quarter of a second.
 */
export const MAX_REGEX_INPUT = 16 * 1024;

/** A test that the whole value matches `source` (Gateway API: regexes match the entire value); longer values than MAX_REGEX_INPUT never match. */
export function compileRouteRegex(source: string): (value: string) => boolean {
  const re = RE2JS.compile(source);
  return (value) => value.length <= MAX_REGEX_INPUT && re.matches(value);
}
