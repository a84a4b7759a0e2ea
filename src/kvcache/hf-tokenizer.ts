/**
 * A real model's tokenizer for the precise prefix index: the model's `tokenizer.json` (and the
 * `tokenizer_config.json` beside it, when there is one) from a local path, through
 * @huggingface/tokenizers. That library is Hugging Face's own JavaScript port of `tokenizers`
 * (the one transformers.js uses): pure JavaScript, no dependencies, no native build and no
 * download at run time, about 650 kB installed; transformers.js itself would bring ONNX Runtime
 * and sharp for nothing here. Token ids come out as vLLM computes them for a completion prompt
 * (the tokenizer's post-processor adds the special tokens, e.g. BOS, as vLLM does by default).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Tokenizer } from "@huggingface/tokenizers";

/** The library, loaded on first use (its CommonJS build), so gateways without a tokenizer.json never parse it. */
let library: { Tokenizer: typeof Tokenizer } | undefined;

/** Token ids of `text`, at most maxTokens of them. */
export type TokenizeFn = (text: string, maxTokens: number) => number[];

/** The tokenizer.json could not be used; message says which file and why. */
export class TokenizerLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerLoadError";
  }
}

/**
 * Characters tokenized at most per requested token: text far beyond what the index matches is
 * not tokenized (a cut can only change tokens near it, long after the maxTokens-th).
 */
const CHARS_PER_TOKEN_BOUND = 32;

function readJson(path: string, what: string): object {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new TokenizerLoadError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TokenizerLoadError(`${what} ${path} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TokenizerLoadError(`${what} ${path} is not a JSON object`);
  return value;
}

/**
 * Loads a tokenizer.json (synchronously: at configuration load). tokenizer_config.json is read
 * from the same folder when present. Throws TokenizerLoadError for a missing or malformed file, or
 * one whose model the library does not implement.
 */
export function loadTokenizerJson(path: string): TokenizeFn {
  const json = readJson(path, "tokenizer.json");
  if (typeof (json as { model?: unknown }).model !== "object")
    throw new TokenizerLoadError(`tokenizer.json ${path} has no "model" section (is it a tokenizer.json?)`);
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? readJson(configPath, "tokenizer_config.json") : {};
  let tokenizer: Tokenizer;
  try {
    library ??= createRequire(import.meta.url)("@huggingface/tokenizers") as { Tokenizer: typeof Tokenizer };
    tokenizer = new library.Tokenizer(json, config);
    tokenizer.encode("a");
  } catch (e) {
    throw new TokenizerLoadError(`tokenizer.json ${path} cannot be used: ${(e as Error).message}`);
  }
  return (text, maxTokens) => {
    const bound = maxTokens * CHARS_PER_TOKEN_BOUND;
    const ids = tokenizer.encode(text.length > bound ? text.slice(0, bound) : text).ids;
    return ids.length > maxTokens ? ids.slice(0, maxTokens) : ids;
  };
}
