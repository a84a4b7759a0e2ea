/**
 * A targeted scanner of the Prometheus text exposition format (0.0.4). Each wanted family is
 * found with one native substring search (its `# TYPE` line and the sample lines named after it),
 * so the rest of the page is never tokenised (a vLLM page is ~28 KB, scraped every 50 ms). Handles label escapes (`\\`, `\"`, `\n`), `NaN`/`±Inf`, optional timestamps and
 * histogram/summary/counter suffixes. Malformed sample lines are skipped and counted, never thrown.
 */

/** One sample of a wanted family. */
export interface PromSample {
  /** Full sample name, e.g. `x_bucket` for histogram family `x`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The value; NaN and ±Infinity are kept as such. */
  readonly value: number;
  /** Milliseconds since epoch, when the line carries one. */
  readonly timestampMs?: number;
}

/** The result of one scan: samples per wanted family, in page order per sample name. */
export interface ScanResult {
  readonly families: ReadonlyMap<string, PromSample[]>;
  /** Lines of wanted families that could not be parsed (skipped). */
  readonly malformedLines: number;
}

const SUFFIXES_BY_TYPE: ReadonlyMap<string, readonly string[]> = new Map([
  ["histogram", ["_bucket", "_sum", "_count", "_created"]],
  ["summary", ["_sum", "_count", "_created"]],
  ["counter", ["_total", "_created"]],
]);
/** Every suffix of any type: what may follow a family's name before its type is known. */
const ANY_SUFFIX = [...new Set([...SUFFIXES_BY_TYPE.values()].flat())];
const TYPE_MARKER = "# TYPE ";
const COUNTER_TYPE_TAIL = "_total ";

/** What a scan may leave out. */
export interface ScanOptions {
  /**
   * Histograms' `_bucket` samples (default true). Without them a histogram costs its `_sum` and
   * `_count` lines only: a vLLM histogram has ~20 bucket lines, the most of a scan's parsing.
   */
  readonly buckets?: boolean;
}

/** Scans `text` for the given family names: one native substring search per family. */
export function scanPrometheusText(
  text: string,
  wanted: readonly string[],
  options: ScanOptions = {},
): ScanResult {
  const buckets = options.buckets !== false;
  const families = new Map<string, PromSample[]>();
  let malformed = 0;
  for (const family of wanted) {
    const { type, lines } = findFamily(text, family);
    const samples: PromSample[] = [];
    const suffixes = SUFFIXES_BY_TYPE.get(type) ?? [];
    for (let k = -1; k < suffixes.length; k++) {
      if (!buckets && suffixes[k] === "_bucket") continue;
      const name = k < 0 ? family : family + suffixes[k];
      for (const at of lines.get(name) ?? []) {
        const sample = parseSampleLine(text, at, name);
        if (sample === undefined) malformed++;
        else samples.push(sample);
      }
    }
    families.set(family, samples);
  }
  return { families, malformedLines: malformed };
}

/**
 * Every occurrence of `family` in the page, found with indexOf (native, fast at any JIT tier: a
 * page is scraped only 20 times a second, too rarely for a per-character loop to be optimised):
 * its first `# TYPE` line (else "untyped"), and the starts of the sample lines named `family` or
 * `family` + a suffix, by name, in page order.
 */
function findFamily(text: string, family: string): { type: string; lines: Map<string, number[]> } {
  let type: string | undefined;
  const lines = new Map<string, number[]>();
  const n = family.length;
  for (let at = text.indexOf(family); at >= 0; at = text.indexOf(family, at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) !== 10) {
      // Not a line start: perhaps the name of a `# TYPE` line.
      const marker = at - TYPE_MARKER.length;
      if (
        type === undefined &&
        marker >= 0 &&
        (marker === 0 || text.charCodeAt(marker - 1) === 10) &&
        text.startsWith(TYPE_MARKER, marker)
      ) {
        let eol = text.indexOf("\n", at);
        if (eol < 0) eol = text.length;
        if (text.charCodeAt(at + n) === 32) type = text.slice(at + n + 1, eol).trim();
        // prometheus_client (vLLM, SGLang) names a counter family `x_total` in its TYPE line.
        else if (
          text.startsWith(COUNTER_TYPE_TAIL, at + n) &&
          text.slice(at + n + COUNTER_TYPE_TAIL.length, eol).trim() === "counter"
        )
          type = "counter";
      }
      continue;
    }
    let name: string | undefined;
    if (isNameEnd(text.charCodeAt(at + n))) name = family;
    else
      for (const suffix of ANY_SUFFIX)
        if (text.startsWith(suffix, at + n) && isNameEnd(text.charCodeAt(at + n + suffix.length))) {
          name = family + suffix;
          break;
        }
    if (name === undefined) continue;
    const list = lines.get(name);
    if (list) list.push(at);
    else lines.set(name, [at]);
  }
  return { type: type ?? "untyped", lines };
}

/** '{', a space or a tab: what may follow a sample name. */
function isNameEnd(c: number): boolean {
  return c === 123 || c === 32 || c === 9;
}

/** Parses the sample line starting at `start` whose name is `name`; undefined when malformed. */
function parseSampleLine(text: string, start: number, name: string): PromSample | undefined {
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  if (end > start && text.charCodeAt(end - 1) === 13) end--; // tolerate CRLF
  let i = start + name.length;
  const labels: Record<string, string> = {};
  if (text.charCodeAt(i) === 123) {
    i = parseLabels(text, i + 1, end, labels);
    if (i < 0) return undefined;
  }
  const rest = text.slice(i, end).trim();
  // `value [timestamp]`, separated by spaces or tabs.
  let gap = 0;
  while (gap < rest.length && rest.charCodeAt(gap) !== 32 && rest.charCodeAt(gap) !== 9) gap++;
  if (gap === 0) return undefined;
  const value = parseFloatToken(gap === rest.length ? rest : rest.slice(0, gap));
  if (value === undefined) return undefined;
  if (gap === rest.length) return { name, labels, value };
  let tsStart = gap;
  while (rest.charCodeAt(tsStart) === 32 || rest.charCodeAt(tsStart) === 9) tsStart++;
  const ts = rest.slice(tsStart);
  if (!/^-?\d+$/.test(ts)) return undefined;
  return { name, labels, value, timestampMs: Number(ts) };
}

/** Parses `k="v",...}` from i (just after '{'); returns the index after '}' or -1. */
function parseLabels(text: string, i: number, end: number, labels: Record<string, string>): number {
  for (;;) {
    i = skipBlanks(text, i, end);
    if (i >= end) return -1;
    if (text.charCodeAt(i) === 125) return i + 1;
    const nameStart = i;
    while (i < end && isLabelNameChar(text.charCodeAt(i), i === nameStart)) i++;
    if (i === nameStart) return -1;
    const key = text.slice(nameStart, i);
    i = skipBlanks(text, i, end);
    if (text.charCodeAt(i) !== 61) return -1; // '='
    i = skipBlanks(text, i + 1, end);
    if (text.charCodeAt(i) !== 34) return -1; // '"'
    i++;
    let value = "";
    let chunk = i;
    for (;;) {
      if (i >= end) return -1;
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        value += text.slice(chunk, i);
        const e = text.charCodeAt(i + 1);
        if (e === 110) value += "\n";
        else if (e === 92) value += "\\";
        else if (e === 34) value += '"';
        else return -1;
        i += 2;
        chunk = i;
        continue;
      }
      i++;
    }
    value += text.slice(chunk, i);
    labels[key] = value;
    i = skipBlanks(text, i + 1, end);
    const sep = text.charCodeAt(i);
    if (sep === 44) i++;
    else if (sep !== 125) return -1;
  }
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

function isLabelNameChar(c: number, first: boolean): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) return true;
  return !first && c >= 48 && c <= 57;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A sample value: decimal floats, `NaN`, `+Inf`, `-Inf`, `Inf` (any case); undefined otherwise. */
export function parseFloatToken(token: string): number | undefined {
  if (FLOAT.test(token)) return Number(token);
  switch (token.toLowerCase()) {
    case "nan":
      return Number.NaN;
    case "+inf":
    case "inf":
    case "+infinity":
    case "infinity":
      return Number.POSITIVE_INFINITY;
    case "-inf":
    case "-infinity":
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}
