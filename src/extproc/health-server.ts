/**
 * gRPC health (`grpc.health.v1.Health`, Check and Watch) on its own port, as upstream's endpoint
 * picker serves it (9003): the overall status ("") and the ext_proc service's. Serving from start;
 * `setServing(false)` reports NOT_SERVING (a follower under leader election, a draining process).
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { EXT_PROC_SERVICE } from "./protocol.ts";

export interface HealthServer {
  readonly port: number;
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

/** Binds the health service on host:port (0 = any free port), plaintext. */
export async function startHealthServer(host: string, port: number): Promise<HealthServer> {
  const health = new HealthImplementation({ "": "SERVING", [EXT_PROC_SERVICE]: "SERVING" });
  const server = new Server();
  health.addToServer(server);
  const bound = await bindAsync(server, host, port, ServerCredentials.createInsecure());
  return {
    port: bound,
    setServing(serving) {
      const status = serving ? "SERVING" : "NOT_SERVING";
      health.setStatus("", status);
      health.setStatus(EXT_PROC_SERVICE, status);
    },
    close: () => shutdown(server),
  };
}

/** `server.bindAsync` as a promise of the bound port; IPv6 literals get brackets. */
function bindAsync(server: Server, host: string, port: number, creds: ServerCredentials): Promise<number> {
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
}

/** Graceful shutdown, forced after 5 s (open ext_proc streams last as long as their requests). */
function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 5000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
