import { sampleLengths } from "./lengths.ts";
import type { Rng } from "./prng.ts";
import { VOCABULARY } from "./vocabulary.ts";

/** One benchmark request before it is sent (vLLM's SampleRequest). */
export interface SampleRequest {
  prompt: string;
  /** Prompt length in tokens of the simulator's tokenizer (prefix + sampled input). */
  promptLen: number;
  /** max_tokens to ask for. */
  outputLen: number;
}

/** What `--dataset-name random` needs to build its prompts. */
export interface RandomDatasetParams {
  numPrompts: number;
  inputLen: number;
  outputLen: number;
  prefixLen: number;
  rangeRatio: number;
}

/**
 * vLLM's random dataset, in words: one shared random prefix of `prefixLen` words, then for request i
 * the run VOCABULARY[(offset_i + i + j) mod |V|], j < sampled input length. Exact lengths for the
 * simulator's one-word-one-token tokenizer.
 */
export function buildRandomRequests(p: RandomDatasetParams, rng: Rng): SampleRequest[] {
  const v = VOCABULARY;
  const { input, output } = sampleLengths(p, p.numPrompts, rng);
  const offsets = Array.from({ length: p.numPrompts }, () => rng.int(0, v.length - 1));
  const prefix = Array.from({ length: p.prefixLen }, () => v[rng.int(0, v.length - 1)]!);
  const prefixText = prefix.join(" ");
  const out: SampleRequest[] = [];
  for (let i = 0; i < p.numPrompts; i++) {
    const n = input[i]!;
    const words = new Array<string>(n);
    const start = offsets[i]! + i;
    for (let j = 0; j < n; j++) words[j] = v[(start + j) % v.length]!;
    const body = words.join(" ");
    const prompt = prefixText && body ? `${prefixText} ${body}` : prefixText || body;
    out.push({ prompt, promptLen: p.prefixLen + n, outputLen: output[i]! });
  }
  return out;
}
