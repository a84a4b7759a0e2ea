/**
 * Python `str.format` / `repr` behaviours the vLLM report and file names rely on, so our text is
 * byte-identical: `{:<40}`, `{:<10.2f}` (round-half-even on the exact binary value), `{s:=^50}`,
 * and `repr(float)` ("10.0", "inf").
 */

/** Python `f"{x:.{digits}f}"`: exact decimal expansion, ties rounded half-to-even. */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const neg = x < 0 || Object.is(x, -0);
  // toFixed(100) would be exact too, but 60 digits cover any double's significant tail here.
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const dot = exact.indexOf(".");
  const intPart = exact.slice(0, dot);
  const frac = exact.slice(dot + 1);
  const kept = intPart + frac.slice(0, digits);
  const rest = frac.slice(digits);
  let roundUp = false;
  if (rest.length > 0) {
    const first = rest.charCodeAt(0) - 48;
    if (first > 5) roundUp = true;
    else if (first === 5) {
      const tail = rest.slice(1);
      if (/[1-9]/.test(tail)) roundUp = true;
      else roundUp = (kept.charCodeAt(kept.length - 1) - 48) % 2 === 1;
    }
  }
  let digitsStr = kept;
  if (roundUp) {
    const arr = digitsStr.split("").map((c) => c.charCodeAt(0) - 48);
    let i = arr.length - 1;
    for (; i >= 0; i--) {
      if (arr[i] === 9) arr[i] = 0;
      else {
        arr[i] = (arr[i] ?? 0) + 1;
        break;
      }
    }
    digitsStr = (i < 0 ? "1" : "") + arr.join("");
  }
  const whole = digitsStr.slice(0, digitsStr.length - digits) || "0";
  const fraction = digits > 0 ? "." + digitsStr.slice(digitsStr.length - digits) : "";
  return (neg ? "-" : "") + whole + fraction;
}

/** Python `repr(float)`: shortest round-trip text, always with a "." or exponent ("10.0", "inf", "1e-05"). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mant, exp] = x.toExponential().split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    return `${mant}e${sign}${exp.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** Python `"{:<width}".format(s)`: left-aligned, padded with spaces, never truncated. */
export function padLeftAligned(s: string, width: number): string {
  return s.length >= width ? s : s + " ".repeat(width - s.length);
}

/** Python `"{s:{c}^{n}}".format(...)`: centred in `width` with fill `c`; extra fill goes right. */
export function centre(s: string, width: number, fill: string): string {
  if (s.length >= width) return s;
  const total = width - s.length;
  const left = Math.floor(total / 2);
  return fill.repeat(left) + s + fill.repeat(total - left);
}
