/**
 * `GET /v1/models` on the gateway: the model names a client can send, in OpenAI list format —
 * every InferenceModel `modelName` of the routed pools, plus what the servers of pools without
 * InferenceModels said they serve.
 */
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { Datastore } from "../datastore/datastore.ts";

export interface ModelsList {
  object: "list";
  data: { id: string; object: "model"; created: number; owned_by: string }[];
}

const created = Math.floor(Date.now() / 1000);

/** Models reachable from the given listeners. */
export function listModels(datastore: Datastore, listenerKeys: readonly string[]): ModelsList {
  const config: ConfigSnapshot = datastore.config;
  const poolKeys = new Set<string>();
  for (const route of config.routes) {
    if (!route.listenerKeys.some((k) => listenerKeys.includes(k))) continue;
    for (const rule of route.rules) for (const b of rule.backends) poolKeys.add(b.poolKey);
  }
  const names = new Set<string>();
  for (const key of poolKeys) {
    const models = config.models.get(key);
    if (models && models.size > 0) for (const name of models.keys()) names.add(name);
    else for (const name of datastore.servedModels(key)?.models ?? []) names.add(name);
  }
  return {
    object: "list",
    data: [...names].sort().map((id) => ({ id, object: "model", created, owned_by: "inference-gateway" })),
  };
}
