import { z } from "zod";
import { OptionError } from "./option-values.ts";

/**
 * vLLM's KVEventsConfig (vllm/config/kv_events.py), the JSON of `--kv-events-config`: same field
 * names, defaults and checks. publisher defaults to "zmq" when events are enabled, else "null".
 */
export interface KvEventsConfig {
  enable_kv_cache_events: boolean;
  publisher: "null" | "zmq";
  /** PUB endpoint; bound when it has `*`, `::`, or is ipc:// / inproc://, else connected (vLLM's rule). */
  endpoint: string;
  /** ROUTER endpoint serving replays, or null for none. */
  replay_endpoint: string | null;
  /** Batches kept for replay. */
  buffer_steps: number;
  /** ZMQ send high-water mark of the PUB socket. */
  hwm: number;
  /** Batches queued for sending before new ones are dropped. */
  max_queue_size: number;
  topic: string;
}

const SCHEMA = z.strictObject({
  enable_kv_cache_events: z.boolean().default(false),
  publisher: z.enum(["null", "zmq"]).optional(),
  endpoint: z.string().min(1).default("tcp://*:5557"),
  replay_endpoint: z.string().min(1).nullable().default(null),
  buffer_steps: z.number().int().min(1).default(10_000),
  hwm: z.number().int().min(0).default(100_000),
  max_queue_size: z.number().int().min(1).default(100_000),
  topic: z.string().default(""),
});

/** Parses `--kv-events-config` (a JSON string, or a mapping from the YAML config); OptionError on bad input. */
export function parseKvEventsConfig(raw: unknown): KvEventsConfig {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new OptionError(
        `--kv-events-config: invalid JSON (${(e as Error).message}); e.g. '{"enable_kv_cache_events":true}'`,
      );
    }
  }
  const r = SCHEMA.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join(".");
    const known = Object.keys(SCHEMA.shape).join(", ");
    throw new OptionError(
      `--kv-events-config${field ? ` field "${field}"` : ""}: ${issue.message} (fields: ${known})`,
    );
  }
  const c = r.data;
  for (const ep of [c.endpoint, c.replay_endpoint]) {
    if (ep !== null && !/^(tcp|ipc|inproc):\/\//.test(ep))
      throw new OptionError(
        `--kv-events-config: endpoint ${JSON.stringify(ep)} must start with tcp://, ipc:// or inproc://`,
      );
  }
  return { ...c, publisher: c.publisher ?? (c.enable_kv_cache_events ? "zmq" : "null") };
}

/** True when the config asks for events to be published. */
export function kvEventsEnabled(c: KvEventsConfig | null): c is KvEventsConfig {
  return c?.enable_kv_cache_events === true && c.publisher === "zmq";
}

/**
 * The endpoint replica i uses, derived as vLLM derives a data-parallel rank's (offset_endpoint_port):
 * tcp ports are offset by i (a port of 0 or `*` stays ephemeral), ipc/inproc paths get `_dp<i>`.
 */
export function replicaEndpoint(endpoint: string, replica: number): string {
  if (replica === 0) return endpoint;
  if (!endpoint.startsWith("tcp://")) return `${endpoint}_dp${replica}`;
  const colon = endpoint.lastIndexOf(":");
  const port = endpoint.slice(colon + 1);
  if (port === "*" || port === "0") return endpoint;
  return `${endpoint.slice(0, colon)}:${Number(port) + replica}`;
}

/** Problems with the endpoints of `replicas` replicas (overlapping tcp ports); empty when fine. */
export function checkReplicaEndpoints(c: KvEventsConfig, replicas: number): string[] {
  const seen = new Map<string, string>();
  const errs: string[] = [];
  for (let i = 0; i < replicas; i++) {
    for (const [what, base] of [
      ["endpoint", c.endpoint],
      ["replay_endpoint", c.replay_endpoint],
    ] as const) {
      if (base === null) continue;
      const ep = replicaEndpoint(base, i);
      if (/:(\*|0)$/.test(ep)) continue;
      const other = seen.get(ep);
      if (other !== undefined)
        errs.push(
          `--kv-events-config: replica ${i}'s ${what} ${ep} is also ${other}; with --replicas ${replicas}, ` +
            `ports are offset by the replica index, so keep replay_endpoint's port at least ${replicas} away from endpoint's`,
        );
      seen.set(ep, `replica ${i}'s ${what}`);
    }
  }
  return errs;
}
