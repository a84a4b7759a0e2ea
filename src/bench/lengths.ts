import type { Rng } from "./prng.ts";

/** Parameters of `--dataset-name random` length sampling (vLLM's current rule). */
export interface LengthParams {
  /** `--random-input-len`: target tokens after the prefix (before special tokens are removed). */
  inputLen: number;
  /** `--random-output-len`: target max_tokens. */
  outputLen: number;
  /** `--random-range-ratio` r in [0, 1). */
  rangeRatio: number;
  /** Tokens the server's tokenizer adds (BOS...); 0 for the simulator's word tokenizer. */
  specialTokens?: number;
}

/** Inclusive [low, high] bounds for input and output lengths under vLLM's current sampling rule. */
export function lengthBounds(p: LengthParams): { input: [number, number]; output: [number, number] } {
  if (!(p.rangeRatio >= 0 && p.rangeRatio < 1)) {
    throw new RangeError(`--random-range-ratio must be in [0, 1), got ${p.rangeRatio}`);
  }
  const realInput = Math.max(0, Math.trunc(p.inputLen) - (p.specialTokens ?? 0));
  const inLow = Math.floor(realInput * (1 - p.rangeRatio));
  const inHigh = Math.ceil(realInput * (1 + p.rangeRatio));
  const outLow = Math.max(1, Math.floor(p.outputLen * (1 - p.rangeRatio)));
  const outHigh = Math.max(1, Math.ceil(p.outputLen * (1 + p.rangeRatio)));
  return { input: [inLow, inHigh], output: [outLow, outHigh] };
}

/** Draws n (input, output) length pairs uniformly from `lengthBounds`, inputs first like vLLM. */
export function sampleLengths(p: LengthParams, n: number, rng: Rng): { input: number[]; output: number[] } {
  const b = lengthBounds(p);
  const input = Array.from({ length: n }, () => rng.int(b.input[0], b.input[1]));
  const output = Array.from({ length: n }, () => rng.int(b.output[0], b.output[1]));
  return { input, output };
}
