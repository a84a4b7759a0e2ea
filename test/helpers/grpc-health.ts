/** A grpc.health.v1 client for tests: `check(service)` resolves to the status name (SERVING...). */
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

export interface HealthClient {
  check(service: string): Promise<string>;
  close(): void;
}

/** A plaintext client of the health service at 127.0.0.1:`port`. */
export function healthClient(port: number): HealthClient {
  const pkg = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: GrpcObject & { Health: ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, credentials.createInsecure());
  const raw = client as unknown as {
    check(r: object, cb: (e: Error | null, r: { status: string }) => void): void;
  };
  return {
    check: (service) =>
      new Promise((resolve, reject) => raw.check({ service }, (e, r) => (e ? reject(e) : resolve(r.status)))),
    close: () => client.close(),
  };
}
