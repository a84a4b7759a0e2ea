import { request } from "undici";
import type { SampleRequest } from "./prompts.ts";

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await request(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
  return JSON.parse(text);
}

async function tokenCount(baseUrl: string, model: string, prompt: string): Promise<number[]> {
  const r = (await postJson(`${baseUrl}/tokenize`, { model, prompt, add_special_tokens: false })) as {
    tokens?: number[];
    count?: number;
  };
  if (Array.isArray(r.tokens)) return r.tokens;
  throw new Error("/tokenize answered without tokens");
}

async function shorten(baseUrl: string, model: string, s: SampleRequest): Promise<SampleRequest> {
  let prompt = s.prompt;
  for (let round = 0; round < 4; round++) {
    const tokens = await tokenCount(baseUrl, model, prompt);
    if (tokens.length <= s.promptLen) return { ...s, prompt };
    try {
      const d = (await postJson(`${baseUrl}/detokenize`, {
        model,
        tokens: tokens.slice(0, s.promptLen),
      })) as {
        prompt?: string;
      };
      if (typeof d.prompt === "string") return { ...s, prompt: d.prompt };
    } catch {
      // no /detokenize: cut words in proportion and measure again
    }
    const words = prompt.split(" ");
    prompt = words.slice(0, Math.max(1, Math.floor((words.length * s.promptLen) / tokens.length))).join(" ");
  }
  return { ...s, prompt };
}

/**
 * vLLM's `_align_prompts_to_server_tokenizer`: if the server's /tokenize counts the first prompt
 * differently from its built length, shorten every prompt that is too long (via /detokenize, or by
 * cutting words). Prompts that come out short are left as they are. Logs what it did.
 */
export async function alignPromptsToServer(
  baseUrl: string,
  model: string,
  samples: SampleRequest[],
  log: (line: string) => void,
): Promise<SampleRequest[]> {
  const first = samples[0];
  if (!first) return samples;
  let count: number;
  try {
    count = (await tokenCount(baseUrl, model, first.prompt)).length;
  } catch {
    log("WARNING: /tokenize unavailable, skipping alignment.");
    return samples;
  }
  if (count === first.promptLen) return samples;
  log(`WARNING: tokenizer mismatch (server=${count}, expected=${first.promptLen}), re-aligning prompts.`);
  const out = samples.slice();
  let next = 0;
  const worker = async () => {
    while (next < out.length) {
      const i = next++;
      try {
        out[i] = await shorten(baseUrl, model, out[i]!);
      } catch {
        // keep the original prompt, as vLLM does on errors
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(64, out.length) }, worker));
  return out;
}
