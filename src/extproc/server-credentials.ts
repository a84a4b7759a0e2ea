/**
 * Transport security of the ext_proc port: plaintext by default; TLS from `<certPath>/tls.crt` and
 * `<certPath>/tls.key` (a Kubernetes TLS Secret mounted as a folder); or, with `secureServing` and
 * no certPath, a self-signed certificate made at start-up, as upstream's endpoint picker does
 * (Envoy is then set to accept it without verification).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface TlsSettings {
  /** Folder holding tls.crt and tls.key. */
  readonly certPath?: string;
  /** Serve TLS even without certPath (self-signed). */
  readonly secureServing?: boolean;
}

/** A certificate chain and its private key (PEM). */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** The ext_proc server's certificate, read or generated (throws naming a missing file); undefined = plaintext. */
export async function serverTls(tls: TlsSettings): Promise<TlsMaterial | undefined> {
  if (tls.certPath !== undefined) {
    const read = (name: string): Buffer => {
      try {
        return readFileSync(join(tls.certPath!, name));
      } catch (e) {
        throw new Error(`--cert-path ${tls.certPath}: cannot read ${name} (${(e as Error).message})`);
      }
    };
    return { cert: read("tls.crt"), key: read("tls.key") };
  }
  if (tls.secureServing !== true) return undefined;
  const pems = await selfSignedCertificate();
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private) };
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
