import type { StepCosts } from "./engine-types.ts";

/** A hardware profile: step costs plus the defaults vLLM would pick on that GPU. */
export interface Profile {
  costs: StepCosts;
  numGpuBlocks: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  loraLoadMs: number;
  loraActivateMs: number;
}

/** Profile names accepted by --profile. */
export const PROFILE_NAMES = ["instant", "a10-7b", "h100-8b"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * instant: zero-cost steps for unit tests. h100-8b: the BLIS fit of Llama-3.1-8B on H100 (vLLM 0.8.4).
 * a10-7b: Qwen-2.5-7B on one A10 (24 GB), calibrated to the seed's measurements (docs/simulator.md).
 */
export const PROFILES: Record<ProfileName, Profile> = {
  instant: {
    costs: { baseMs: 0, prefillUsPerToken: 0, decodeUsPerSeq: 0, attnUsPerCtxToken: 0, jitter: 0 },
    numGpuBlocks: 65536,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 2048,
    loraLoadMs: 0,
    loraActivateMs: 0,
  },
  "a10-7b": {
    costs: { baseMs: 25, prefillUsPerToken: 180, decodeUsPerSeq: 40, attnUsPerCtxToken: 0.25, jitter: 0.05 },
    numGpuBlocks: 5000,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 2048,
    loraLoadMs: 200,
    loraActivateMs: 5,
  },
  "h100-8b": {
    costs: {
      baseMs: 5.75,
      prefillUsPerToken: 17.3,
      decodeUsPerSeq: 6.0,
      attnUsPerCtxToken: 0.05,
      jitter: 0.05,
    },
    numGpuBlocks: 29205,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: 8192,
    loraLoadMs: 100,
    loraActivateMs: 2,
  },
};
