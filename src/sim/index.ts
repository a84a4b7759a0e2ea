import { checkFailureTypes } from "./faults.ts";
import { OptionError } from "./option-values.ts";
import { checkOptions, defaultOptions, type SimOptions } from "./options.ts";
import { Replica } from "./replica.ts";

export { OptionError } from "./option-values.ts";
export type { SimOptions } from "./options.ts";

/** A running simulator: one base URL per replica (index-aligned), and a way to stop it. */
export interface RunningSimulator {
  urls: string[];
  replicas: Replica[];
  options: SimOptions;
  close(): Promise<void>;
}

/** Fills defaults and validates; throws OptionError listing every problem. */
export function resolveSimOptions(partial: Partial<SimOptions>): SimOptions {
  const o: SimOptions = { ...defaultOptions() };
  for (const [k, v] of Object.entries(partial))
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  const errs = [...checkOptions(o), ...checkFailureTypes(o.failureTypes)];
  if (errs.length > 0) throw new OptionError(errs.join("\n"));
  return o;
}

/**
 * Starts `replicas` simulated vLLM servers in this process (ports port..port+N-1, or ephemeral ports
 * with port 0), each with its KV-event sockets when --kv-events-config enables them. Used by `igw sim` and by tests; close() stops all of them. hooks.onAllDead runs when
 * the last live replica dies (the CLI exits then with --exit-when-dead).
 */
export async function startSimulator(
  options: Partial<SimOptions> = {},
  hooks: { onAllDead?: () => void; warn?: (message: string) => void } = {},
): Promise<RunningSimulator> {
  const o = resolveSimOptions(options);
  const replicas: Replica[] = [];
  const close = async () => {
    await Promise.all(replicas.map((r) => r.close()));
  };
  try {
    for (let i = 0; i < o.replicas; i++) {
      const r = new Replica(
        i,
        o,
        () => {
          if (replicas.every((x) => x.dead)) hooks.onAllDead?.();
        },
        hooks.warn,
      );
      replicas.push(r);
      await r.listen(o.port === 0 ? 0 : o.port + i, o.host);
      await r.startKvEvents();
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls: replicas.map((r) => r.url), replicas, options: o, close };
}
