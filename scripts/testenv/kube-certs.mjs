// Certificates for a loopback kube-apiserver, made with the openssl CLI (node:crypto makes keys but
// cannot sign X.509 certificates): a CA, the server's certificate for 127.0.0.1/localhost, an admin
// client certificate in group system:masters, and the service-account signing key pair.

import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const DAYS = "3650";

/** Runs openssl quietly; throws with its stderr when it fails. */
function openssl(args, cwd) {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`openssl could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

/** Signs `name`.crt for `subject` with the CA in `dir`; `extensions` is an openssl extension section. */
function issue(dir, name, subject, extensions) {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(["genrsa", "-out", `${name}.key`, "2048"], dir);
  openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      DAYS,
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
}

/**
 * Writes the PKI to `dir` (created) and returns the file paths: ca.crt, server.crt/key,
 * admin.crt/key (CN igw-admin, O system:masters), sa.pub/sa.key (RSA, PEM).
 */
export function makeCertificates(dir) {
  mkdirSync(dir, { recursive: true });
  openssl(["genrsa", "-out", "ca.key", "2048"], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-subj",
      "/CN=igw-testenv-ca",
      "-days",
      DAYS,
      "-out",
      "ca.crt",
    ],
    dir,
  );
  issue(
    dir,
    "server",
    "/CN=kube-apiserver",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n",
  );
  issue(
    dir,
    "admin",
    "/O=system:masters/CN=igw-admin",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  const sa = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  writeFileSync(join(dir, "sa.pub"), sa.publicKey);
  writeFileSync(join(dir, "sa.key"), sa.privateKey, { mode: 0o600 });
  const f = (name) => join(dir, name);
  return {
    ca: f("ca.crt"),
    serverCert: f("server.crt"),
    serverKey: f("server.key"),
    adminCert: f("admin.crt"),
    adminKey: f("admin.key"),
    saPublic: f("sa.pub"),
    saPrivate: f("sa.key"),
  };
}
