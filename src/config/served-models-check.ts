/**
 * Configuration checked against the servers: asks every endpoint of every pool for `/v1/models`,
 * records what each pool serves (base models and LoRA adapters) in the datastore, and warns once
 * about every InferenceModel target that no endpoint of its pool serves (and once per endpoint that
 * cannot be asked). A warning is repeated only after the problem went away and came back.
 */
import type { Logger } from "pino";
import { request } from "undici";
import type { ModelRecord } from "../api/inference-model.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { Endpoint } from "../datastore/endpoint.ts";

interface ServerModel {
  id: string;
  parent?: string | null;
}

export interface ServedModelsCheckOptions {
  /** Per-endpoint request timeout, ms. Default 2000. */
  readonly timeoutMs?: number;
}

/**
 * The pool's InferenceModel targets (or model names, without targets) that `served` lacks (pure;
 * the check warns about them, the dashboard lists them).
 */
export function unservedTargets(
  config: ConfigSnapshot,
  poolKey: string,
  served: ReadonlySet<string>,
): { model: ModelRecord; target: string }[] {
  const out: { model: ModelRecord; target: string }[] = [];
  for (const model of config.models.get(poolKey)?.values() ?? []) {
    const targets = model.targets.length > 0 ? model.targets.map((t) => t.name) : [model.modelName];
    for (const target of targets) if (!served.has(target)) out.push({ model, target });
  }
  return out;
}

export class ServedModelsCheck {
  readonly #datastore: Datastore;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #warned = new Set<string>();
  #running: Promise<void> | undefined;
  #again = false;

  constructor(datastore: Datastore, logger: Logger, options: ServedModelsCheckOptions = {}) {
    this.#datastore = datastore;
    this.#logger = logger;
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Runs a check (or schedules one more after the one running). Resolves when done; never rejects. */
  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#checkAll().catch((e: unknown) =>
          this.#logger.error({ err: e }, "served-models check failed"),
        );
      } while (this.#again);
      this.#running = undefined;
    })();
    return this.#running;
  }

  async #checkAll(): Promise<void> {
    const config = this.#datastore.config;
    const answers = new Map<string, ServerModel[] | undefined>();
    await Promise.all(
      this.#datastore.endpoints().map(async (s) => answers.set(s.endpoint.id, await this.#ask(s.endpoint))),
    );
    const stillTrue = new Set<string>();
    for (const pool of config.pools.values()) {
      const models = new Set<string>();
      const adapters = new Set<string>();
      let answered = 0;
      for (const s of this.#datastore.poolEndpoints(pool.key)) {
        const list = answers.get(s.endpoint.id);
        if (!list) continue;
        answered++;
        for (const m of list) {
          models.add(m.id);
          if (m.parent) adapters.add(m.id);
        }
      }
      if (answered === 0) continue;
      this.#datastore.setServedModels(pool.key, { models, adapters });
      for (const { model, target } of unservedTargets(config, pool.key, models)) {
        const key = `unserved|${pool.key}|${model.key}|${target}`;
        stillTrue.add(key);
        this.#warnOnce(
          key,
          { pool: pool.key, inferenceModel: model.key, targetModel: target, served: [...models] },
          `InferenceModel ${model.key} sends model "${target}" to pool ${pool.key}, but no endpoint of the pool ` +
            `serves a model of that name (they serve: ${[...models].join(", ") || "nothing"}). Requests for ` +
            `"${model.modelName}" will be refused by the model servers (404). Serve it under that name ` +
            `(vllm serve ... --served-model-name ${target}, or --lora-modules ${target}=PATH) or change targetModels.`,
        );
      }
    }
    for (const [id, list] of answers) if (!list) stillTrue.add(`unreachable|${id}`);
    for (const key of this.#warned) if (!stillTrue.has(key)) this.#warned.delete(key);
  }

  #warnOnce(key: string, fields: object, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#logger.warn(fields, message);
  }

  async #ask(endpoint: Endpoint): Promise<ServerModel[] | undefined> {
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    try {
      const res = await request(`http://${host}:${endpoint.port}/v1/models`, {
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body = (await res.body.json()) as { data?: unknown };
      if (res.statusCode !== 200 || !Array.isArray(body.data)) throw new Error(`HTTP ${res.statusCode}`);
      return body.data.filter((m): m is ServerModel => typeof (m as ServerModel)?.id === "string");
    } catch (e) {
      this.#warnOnce(
        `unreachable|${endpoint.id}`,
        { endpoint: endpoint.id },
        `could not ask endpoint ${endpoint.id} which models it serves (GET /v1/models: ${(e as Error).message})`,
      );
      return undefined;
    }
  }
}
