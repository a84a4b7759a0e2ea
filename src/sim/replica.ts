import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Engine } from "./engine.ts";
import type { EngineConfig } from "./engine-types.ts";
import { kvEventsEnabled, replicaEndpoint } from "./kv-events-config.ts";
import { KvEventsPublisher } from "./kv-events-publisher.ts";
import { engineConfig, type SimOptions, servedNames } from "./options.ts";
import { Rng } from "./rng.ts";
import { handleRequest } from "./routes.ts";
import { EngineRunner } from "./runner.ts";

/**
 * One simulated vLLM server: an engine, its runner, an HTTP server and the adapters it serves.
 * Created by startSimulator; routes.ts reads and mutates its public state.
 */
export class Replica {
  readonly index: number;
  readonly options: SimOptions;
  readonly config: EngineConfig;
  readonly engine: Engine;
  readonly runner: EngineRunner;
  /** Served names; the first is used in responses and metrics. */
  readonly names: string[];
  /** LoRA adapters served: name -> path and vLLM's integer id (1, 2, ... in load order). */
  readonly loras = new Map<string, { path: string; id: number }>();
  private nextLoraId = 1;
  /** The KV-event publisher, once startKvEvents() ran with events enabled. */
  kvEvents: KvEventsPublisher | null = null;
  readonly faultRng: Rng;
  /** Real time (Date.now()) from which /health answers 200. */
  readonly readyAt: number;
  /** Generation requests received (for --dead-after). */
  requestsSeen = 0;
  dead = false;
  url = "";
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private readonly onDeath: (() => void) | undefined;
  /** Where the replica's warnings go (the CLI's logger; nowhere by default). */
  readonly warn: (message: string) => void;

  /** onDeath: called once when this replica dies (--dead-after or POST /admin/kill); warn: its warnings. */
  constructor(
    index: number,
    options: SimOptions,
    onDeath?: () => void,
    warn: (message: string) => void = () => {},
  ) {
    this.onDeath = onDeath;
    this.warn = warn;
    this.index = index;
    this.options = { ...options }; // per replica: POST /admin/config changes one replica only
    this.config = engineConfig(options, index);
    this.engine = new Engine(this.config);
    this.runner = new EngineRunner(this.engine, options.timeScale);
    this.names = servedNames(options);
    for (const m of options.loraModules) this.addLora(m.name, m.path);
    this.faultRng = new Rng((this.config.seed ^ 0x5bd1e995) >>> 0);
    this.readyAt = Date.now() + options.startupDelayMs;
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => handleRequest(this, req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  /** Serves a LoRA adapter under the next integer id. */
  addLora(name: string, path: string): void {
    this.loras.set(name, { path, id: this.nextLoraId++ });
  }

  /** Opens the KV-event sockets (vLLM's ZmqEventPublisher) when --kv-events-config enables them. */
  async startKvEvents(): Promise<void> {
    const c = this.options.kvEventsConfig;
    if (!kvEventsEnabled(c)) return;
    const replay = c.replay_endpoint === null ? null : replicaEndpoint(c.replay_endpoint, this.index);
    this.kvEvents = await KvEventsPublisher.open(
      c,
      replicaEndpoint(c.endpoint, this.index),
      replay,
      this.options.kvEventsFormat,
      this.options.host,
    );
    const pub = this.kvEvents;
    this.runner.onKvEvents = (events) => pub.publish(events);
  }

  /** POST /reset_prefix_cache: resets the engine's prefix cache and publishes AllBlocksCleared at once. */
  resetPrefixCache(resetRunning: boolean): boolean {
    const ok = this.engine.resetPrefixCache(resetRunning);
    this.kvEvents?.publish(this.engine.takeEvents());
    return ok;
  }

  /** True once the startup delay has passed (and the replica is alive). */
  isReady(): boolean {
    return !this.dead && Date.now() >= this.readyAt;
  }

  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const a = this.server.address() as AddressInfo;
        const h = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
        this.url = `http://${h}:${a.port}`;
        resolve(this.url);
      });
    });
  }

  /** Dies: stops listening, resets every open connection, stops the engine (a crashed server). */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.runner.close();
    this.kvEvents?.close();
    this.server.close();
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    this.onDeath?.();
  }

  /** Graceful stop for shutdown: stops the engine, closes connections and the listener. */
  close(): Promise<void> {
    this.runner.close();
    this.kvEvents?.close();
    this.dead = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    });
  }
}
