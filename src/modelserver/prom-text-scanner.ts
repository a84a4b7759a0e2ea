/**
 * A targeted scanner of the Prometheus text exposition format (0.0.4). It reads only the wanted
 * families: each sample name is found with `indexOf` at a line start, so the rest of the page is
 * never tokenised. Handles label escapes (`\\`, `\"`, `\n`), `NaN`/`±Inf`, optional timestamps and
 * histogram/summary/counter suffixes (declared by `# TYPE`). Malformed sample lines are skipped and
 * counted, never thrown.
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

const SUFFIXES_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count", "_created"],
  summary: ["_sum", "_count", "_created"],
  counter: ["_total", "_created"],
};

/** Scans `text` for the given family names; cost grows with the number of wanted names, not the page. */
export function scanPrometheusText(text: string, wanted: readonly string[]): ScanResult {
  const families = new Map<string, PromSample[]>();
  let malformed = 0;
  for (const family of wanted) {
    const samples: PromSample[] = [];
    const type = declaredType(text, family);
    const names = [family, ...(SUFFIXES_BY_TYPE[type] ?? []).map((s) => family + s)];
    for (const name of names) malformed += collect(text, name, samples);
    families.set(family, samples);
  }
  return { families, malformedLines: malformed };
}

/** The `# TYPE` of a family, or "untyped". */
function declaredType(text: string, family: string): string {
  const marker = `# TYPE ${family} `;
  let at = text.indexOf(marker);
  while (at > 0 && text.charCodeAt(at - 1) !== 10) at = text.indexOf(marker, at + 1);
  if (at < 0) return "untyped";
  const start = at + marker.length;
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  return text.slice(start, end).trim();
}

/** Appends every well-formed sample line named exactly `name`; returns the malformed count. */
function collect(text: string, name: string, out: PromSample[]): number {
  let malformed = 0;
  let from = 0;
  for (;;) {
    const at = text.indexOf(name, from);
    if (at < 0) return malformed;
    from = at + name.length;
    if (at > 0 && text.charCodeAt(at - 1) !== 10) continue;
    const next = text.charCodeAt(at + name.length);
    // Must be followed by '{', space or tab; anything else is a longer name (or end of page).
    if (next !== 123 && next !== 32 && next !== 9) continue;
    const sample = parseSampleLine(text, at, name);
    if (sample === undefined) malformed++;
    else out.push(sample);
  }
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
  const parts = rest.split(/[ \t]+/);
  if (parts.length > 2 || parts[0] === "") return undefined;
  const value = parseFloatToken(parts[0]!);
  if (value === undefined) return undefined;
  if (parts.length === 2) {
    const ts = parts[1]!;
    if (!/^-?\d+$/.test(ts)) return undefined;
    return { name, labels, value, timestampMs: Number(ts) };
  }
  return { name, labels, value };
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
