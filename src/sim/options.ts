import type { KvEventsFormat } from "../kvcache/kv-events.ts";
import type { HashAlgo } from "../kvcache/vllm-block-hash.ts";
import type { EngineConfig } from "./engine-types.ts";
import { checkReplicaEndpoints, type KvEventsConfig, kvEventsEnabled } from "./kv-events-config.ts";
import { PROFILES, type ProfileName } from "./profiles.ts";

/** A LoRA adapter served from start (`--lora-modules name=path`). */
export interface LoraModule {
  name: string;
  path: string;
}

/**
 * Every simulator option, as parsed from the CLI or YAML (see option-table.ts for the flag names).
 * Engine sizes left undefined take the profile's default. Times are ms unless named otherwise.
 */
export interface SimOptions {
  model: string;
  servedModelName: string[];
  host: string;
  port: number;
  replicas: number;
  profile: ProfileName;
  timeScale: number;
  seed: number;
  maxModelLen: number;
  maxNumSeqs: number | undefined;
  maxNumBatchedTokens: number | undefined;
  blockSize: number;
  numGpuBlocksOverride: number | undefined;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  prefixCachingHashAlgo: HashAlgo;
  /** PYTHONHASHSEED for every replica; undefined = the environment's, else random (as vLLM). */
  hashSeed: string | undefined;
  /** `--kv-events-config`, parsed; null = vLLM's default (no events). */
  kvEventsConfig: KvEventsConfig | null;
  kvEventsFormat: KvEventsFormat;
  schedulingPolicy: "fcfs" | "priority";
  maxWaitingQueueLength: number;
  enableLora: boolean;
  maxLoras: number;
  maxCpuLoras: number | undefined;
  loraModules: LoraModule[];
  loraLoadMs: number | undefined;
  loraActivateMs: number | undefined;
  allowRuntimeLoraUpdating: boolean;
  stepBaseMs: number | undefined;
  prefillUsPerToken: number | undefined;
  decodeUsPerSeq: number | undefined;
  attnUsPerCtxToken: number | undefined;
  stepJitter: number | undefined;
  eosMean: number;
  metricsCompat: "v0" | "v1" | "both";
  engineLabel: string;
  failureRate: number;
  failureTypes: string[];
  startupDelayMs: number;
  stallProb: number;
  stallMs: number;
  midStreamErrorProb: number;
  deadAfter: number;
  /** `igw sim` only: exit the process (code 1) once every replica is dead ("process gone"). */
  exitWhenDead: boolean;
  /** `igw sim` only: its stderr lines as JSON or text (auto: text when stderr is a terminal). */
  logFormat: "auto" | "json" | "text";
}

/** Defaults (vLLM's where vLLM has the option). */
export function defaultOptions(): SimOptions {
  return {
    model: "qwen",
    servedModelName: [],
    host: "127.0.0.1",
    port: 8000,
    replicas: 1,
    profile: "instant",
    timeScale: 1,
    seed: 0,
    maxModelLen: 4096,
    maxNumSeqs: undefined,
    maxNumBatchedTokens: undefined,
    blockSize: 16,
    numGpuBlocksOverride: undefined,
    gpuMemoryUtilization: 0.9,
    enablePrefixCaching: true,
    prefixCachingHashAlgo: "sha256",
    hashSeed: undefined,
    kvEventsConfig: null,
    kvEventsFormat: "map",
    schedulingPolicy: "fcfs",
    maxWaitingQueueLength: 0,
    enableLora: false,
    maxLoras: 1,
    maxCpuLoras: undefined,
    loraModules: [],
    loraLoadMs: undefined,
    loraActivateMs: undefined,
    allowRuntimeLoraUpdating: false,
    stepBaseMs: undefined,
    prefillUsPerToken: undefined,
    decodeUsPerSeq: undefined,
    attnUsPerCtxToken: undefined,
    stepJitter: undefined,
    eosMean: 256,
    metricsCompat: "v1",
    engineLabel: "0",
    failureRate: 0,
    failureTypes: [],
    startupDelayMs: 0,
    stallProb: 0,
    stallMs: 1000,
    midStreamErrorProb: 0,
    deadAfter: 0,
    exitWhenDead: false,
    logFormat: "auto",
  };
}

/** The served model names (first = the name in responses and metrics); defaults to --model. */
export function servedNames(o: SimOptions): string[] {
  return o.servedModelName.length > 0 ? o.servedModelName : [o.model];
}

/** Engine configuration for one replica (replica index offsets the seed). */
export function engineConfig(o: SimOptions, replica: number): EngineConfig {
  const p = PROFILES[o.profile];
  const maxLoras = o.maxLoras;
  return {
    maxNumSeqs: o.maxNumSeqs ?? p.maxNumSeqs,
    maxNumBatchedTokens: o.maxNumBatchedTokens ?? p.maxNumBatchedTokens,
    blockSize: o.blockSize,
    numGpuBlocks: o.numGpuBlocksOverride ?? p.numGpuBlocks,
    maxModelLen: o.maxModelLen,
    enablePrefixCaching: o.enablePrefixCaching,
    enableLora: o.enableLora,
    maxLoras,
    maxCpuLoras: Math.max(o.maxCpuLoras ?? maxLoras, maxLoras),
    loraLoadMs: o.loraLoadMs ?? p.loraLoadMs,
    loraActivateMs: o.loraActivateMs ?? p.loraActivateMs,
    schedulingPolicy: o.schedulingPolicy,
    hashAlgo: o.prefixCachingHashAlgo,
    hashSeed: o.hashSeed ?? process.env["PYTHONHASHSEED"] ?? null,
    kvEvents: kvEventsEnabled(o.kvEventsConfig),
    costs: {
      baseMs: o.stepBaseMs ?? p.costs.baseMs,
      prefillUsPerToken: o.prefillUsPerToken ?? p.costs.prefillUsPerToken,
      decodeUsPerSeq: o.decodeUsPerSeq ?? p.costs.decodeUsPerSeq,
      attnUsPerCtxToken: o.attnUsPerCtxToken ?? p.costs.attnUsPerCtxToken,
      jitter: o.stepJitter ?? p.costs.jitter,
    },
    stallProb: o.stallProb,
    stallMs: o.stallMs,
    eosMean: o.eosMean,
    seed: (o.seed + replica * 7919) >>> 0,
    timeScale: o.timeScale,
  };
}

/** Cross-field checks; returns a list of problems (empty = fine). */
export function checkOptions(o: SimOptions): string[] {
  const errs: string[] = [];
  const cfg = engineConfig(o, 0);
  if (cfg.numGpuBlocks * cfg.blockSize < o.maxModelLen) {
    errs.push(
      `--max-model-len ${o.maxModelLen} is larger than the KV cache can hold ` +
        `(${cfg.numGpuBlocks} blocks x ${cfg.blockSize} tokens = ${cfg.numGpuBlocks * cfg.blockSize}); ` +
        "lower --max-model-len or raise --num-gpu-blocks-override",
    );
  }
  if (o.loraModules.length > 0 && !o.enableLora) errs.push("--lora-modules needs --enable-lora");
  if (o.port !== 0 && o.port + o.replicas - 1 > 65535) errs.push("--port + --replicas exceeds 65535");
  if (kvEventsEnabled(o.kvEventsConfig)) errs.push(...checkReplicaEndpoints(o.kvEventsConfig, o.replicas));
  return errs;
}
