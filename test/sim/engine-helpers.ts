import { Engine, type StepPlan, type TokenEvent } from "../../src/sim/engine.ts";
import type { EngineConfig, NewRequest } from "../../src/sim/engine-types.ts";

/** A small engine config for tests; override fields per test. */
export function testConfig(over: Partial<EngineConfig> = {}): EngineConfig {
  return {
    maxNumSeqs: 8,
    maxNumBatchedTokens: 64,
    blockSize: 4,
    numGpuBlocks: 64,
    maxModelLen: 256,
    enablePrefixCaching: true,
    enableLora: false,
    maxLoras: 1,
    maxCpuLoras: 1,
    loraLoadMs: 0,
    loraActivateMs: 0,
    schedulingPolicy: "fcfs",
    hashAlgo: "sha256",
    hashSeed: "0",
    kvEvents: false,
    costs: { baseMs: 10, prefillUsPerToken: 100, decodeUsPerSeq: 50, attnUsPerCtxToken: 1, jitter: 0 },
    stallProb: 0,
    stallMs: 0,
    eosMean: 16,
    seed: 1,
    timeScale: 1,
    ...over,
  };
}

/** A request of n distinct prompt tokens (offset keeps prompts distinct) generating exactly out tokens. */
export function req(
  id: string,
  n: number,
  out: number,
  extra: Partial<NewRequest> = {},
  offset = 0,
): NewRequest {
  return {
    id,
    promptTokens: Array.from({ length: n }, (_, i) => 1000 + offset + i),
    maxTokens: out,
    ignoreEos: true,
    adapter: null,
    priority: 0,
    ...extra,
  };
}

/** Steps the engine on a virtual clock until idle (or maxSteps), calling check after each schedule. */
export function run(
  engine: Engine,
  check: (plan: StepPlan, engine: Engine) => void = () => undefined,
  onEvents: (events: TokenEvent[]) => void = () => undefined,
  maxSteps = 100_000,
): { steps: number; now: number } {
  let now = 0;
  let steps = 0;
  while (engine.hasWork() && steps < maxSteps) {
    const plan = engine.schedule(now);
    if (plan === null) break;
    check(plan, engine);
    now += plan.durationMs;
    onEvents(engine.complete(plan, now));
    steps++;
  }
  return { steps, now };
}

export { Engine };
