import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, formatIssue } from "../../src/config/config-error.ts";
import { loadEndpointsFile, parseAddress } from "../../src/config/endpoints-file.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

test("addresses: host, host:port and [ipv6]:port", () => {
  assert.deepEqual(parseAddress("10.0.0.1:8000"), { host: "10.0.0.1", port: 8000 });
  assert.deepEqual(parseAddress("vllm-0"), { host: "vllm-0" });
  assert.deepEqual(parseAddress("[::1]:9000"), { host: "::1", port: 9000 });
  assert.equal(parseAddress("host:99999"), undefined);
  assert.equal(parseAddress("a b:1"), undefined);
});

test("the endpoints file lists addresses with labels", () => {
  const t = tempFiles({
    "eps.yaml": "endpoints:\n  - address: 127.0.0.1:8001\n    labels: {app: qwen}\n  - address: 127.0.0.2\n",
  });
  try {
    assert.deepEqual(loadEndpointsFile(t.path("eps.yaml")), [
      { host: "127.0.0.1", port: 8001, labels: { app: "qwen" } },
      { host: "127.0.0.2", labels: {} },
    ]);
  } finally {
    t.cleanup();
  }
});

test("a bad address is reported with file, line and field", () => {
  const t = tempFiles({ "eps.yaml": "endpoints:\n  - address: 127.0.0.1:8001\n  - address: 'bad:port:x'\n" });
  try {
    assert.throws(
      () => loadEndpointsFile(t.path("eps.yaml")),
      (e: unknown) =>
        e instanceof ConfigError &&
        formatIssue(e.issues[0]!) ===
          `${t.path("eps.yaml")}:3: endpoints file: endpoints[1].address must be host, host:port or [ipv6]:port`,
    );
  } finally {
    t.cleanup();
  }
});
