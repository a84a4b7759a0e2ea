/**
 * Gateway API / Go durations ("24h", "1h30m", "500ms", "1.5s") to milliseconds. Used by
 * BackendTrafficPolicy `timeout.http.requestTimeout` and HTTPRoute `timeouts.request`.
 */
const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 1e-6,
};

/** Milliseconds for a duration string; undefined when the text is not a duration. "0s" = 0 (no timeout). */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/y;
  let total = 0;
  let matched = 0;
  re.lastIndex = 0;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
    matched++;
  }
  return matched > 0 ? total : undefined;
}
