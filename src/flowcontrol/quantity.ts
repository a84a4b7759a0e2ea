/**
 * Parsers for the two scalar formats of the flow-control config, as Kubernetes writes them:
 * quantities (`512Mi`, `1G`, `1000`) and Go durations (`30s`, `1m30s`, `200ms`).
 */

const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A Kubernetes quantity (integer or string such as `10Gi`, `500M`, `1e6`) as a whole number >= 0; throws a readable Error otherwise. */
export function parseQuantity(value: number | string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      throw new Error(`expected a whole number >= 0, got ${value}`);
    }
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?(?:[eE]\d+)?)\s*(|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)\s*$/.exec(value);
  if (!m) {
    throw new Error(`"${value}" is not a quantity (examples: 1000, 512Mi, 10Gi, 1G)`);
  }
  const n = Number(m[1]) * (QUANTITY_SUFFIX[m[2] ?? ""] ?? 1);
  return Math.round(n);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration string (`30s`, `1m30s`, `200ms`, `0`) in milliseconds; throws a readable Error otherwise. */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (text === "0") return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    part.lastIndex = pos;
    const m = part.exec(text);
    if (!m) break;
    total += Number(m[1]) * (DURATION_UNIT_MS[m[2] ?? ""] ?? 0);
    pos = part.lastIndex;
  }
  if (pos === 0 || pos !== text.length) {
    throw new Error(`"${value}" is not a duration (examples: 30s, 500ms, 1m30s, 0)`);
  }
  return total;
}
