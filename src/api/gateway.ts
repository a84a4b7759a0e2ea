/** Gateway `gateway.networking.k8s.io/v1`: its listeners say where the gateway listens. */
import { z } from "zod";
import { metadataSchema } from "./metadata.ts";

export const gatewaySchema = z.object({
  apiVersion: z.enum(["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]),
  kind: z.literal("Gateway"),
  metadata: metadataSchema,
  spec: z.object({
    gatewayClassName: z.string().min(1),
    listeners: z
      .array(
        z.object({
          name: z.string().min(1).max(253),
          port: z.number().int().min(1).max(65535),
          protocol: z.string().min(1),
          hostname: z.string().optional(),
          /** Accepted, not read. */
          tls: z.unknown().optional(),
          allowedRoutes: z.unknown().optional(),
        }),
      )
      .min(1)
      .max(64)
      .refine((ls) => new Set(ls.map((l) => l.name)).size === ls.length, "listener names must be unique"),
    // Gateway API fields accepted and not read by the standalone gateway.
    addresses: z.unknown().optional(),
    infrastructure: z.unknown().optional(),
    backendTLS: z.unknown().optional(),
    allowedListeners: z.unknown().optional(),
  }),
});

export interface ListenerRecord {
  /** `namespace/gateway/listener`. */
  readonly key: string;
  readonly gatewayKey: string;
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

export interface GatewayRecord {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly listeners: readonly ListenerRecord[];
}

export function toGatewayRecord(doc: z.infer<typeof gatewaySchema>): GatewayRecord {
  const key = `${doc.metadata.namespace}/${doc.metadata.name}`;
  return {
    key,
    name: doc.metadata.name,
    namespace: doc.metadata.namespace,
    listeners: doc.spec.listeners.map((l) => ({
      key: `${key}/${l.name}`,
      gatewayKey: key,
      name: l.name,
      port: l.port,
      protocol: l.protocol,
    })),
  };
}
