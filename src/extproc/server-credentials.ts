/**
 * Transport security of the ext_proc port: plaintext by default; TLS from `<certPath>/tls.crt` and
 * `<certPath>/tls.key` (a Kubernetes TLS Secret mounted as a folder); or, with `secureServing` and
 * no certPath, a self-signed certificate made at start-up, as upstream's endpoint picker does
 * (Envoy is then set to accept it without verification).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ServerCredentials } from "@grpc/grpc-js";
import { generate } from "selfsigned";

export interface TlsSettings {
  /** Folder holding tls.crt and tls.key. */
  readonly certPath?: string;
  /** Serve TLS even without certPath (self-signed). */
  readonly secureServing?: boolean;
}

/** Credentials for the ext_proc server; reads or generates the certificate (throws naming a missing file). */
export async function serverCredentials(tls: TlsSettings): Promise<ServerCredentials> {
  if (tls.certPath !== undefined) {
    const read = (name: string): Buffer => {
      try {
        return readFileSync(join(tls.certPath!, name));
      } catch (e) {
        throw new Error(`--cert-path ${tls.certPath}: cannot read ${name} (${(e as Error).message})`);
      }
    };
    return ServerCredentials.createSsl(
      null,
      [{ cert_chain: read("tls.crt"), private_key: read("tls.key") }],
      false,
    );
  }
  if (tls.secureServing !== true) return ServerCredentials.createInsecure();
  const pems = await selfSignedCertificate();
  return ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(pems.cert), private_key: Buffer.from(pems.private) }],
    false,
  );
}

/** A fresh self-signed certificate for "localhost" and 127.0.0.1, valid for ten years (PEM). */
export function selfSignedCertificate(): Promise<{ cert: string; private: string }> {
  const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  return generate([{ name: "commonName", value: "igw-epp" }], {
    keySize: 2048,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
}
