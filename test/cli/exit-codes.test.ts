/**
 * Configuration and usage errors exit 2 in every sub-command, with one message and no stack trace
 * (docs/configuration.md, docs/simulator.md). Each case is a real `igw` process.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { assertUsageError, runIgw } from "../helpers/igw-cli.ts";
import { tempFiles } from "../helpers/temp-dir.ts";

const BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  "",
].join("\n");

test("igw serve: a missing option, a bad value and an alias bomb each exit 2", async () => {
  assertUsageError(await runIgw(["serve"]), /no configuration: pass -f FILE\|FOLDER \(manifests\) or --kube/);
  assertUsageError(
    await runIgw(["serve", "--kube", "--kubeconfig", "/nonexistent"]),
    /--kubeconfig \/nonexistent: no such file/,
  );
  assertUsageError(await runIgw(["serve", "-f", "examples/seed", "--namespace", "x"]), /need --kube/);
  assertUsageError(await runIgw(["serve", "--kube", "-f", "examples/seed"]), /-f and --kube are exclusive/);
  assertUsageError(
    await runIgw(["serve", "-f", "examples/seed", "--config-map", "default/epp"]),
    /--config-map need --kube/,
  );
  assertUsageError(await runIgw(["epp", "--kube", "--config-map", "epp"]), /expected NAMESPACE\/NAME/);
  assertUsageError(
    await runIgw(["serve", "-f", "examples/seed", "--port", "x"]),
    /--port <n>.*expected an integer/,
  );
  const t = tempFiles({
    "bomb.yaml": BOMB,
    "plugins.yaml":
      "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n- type: queue-scorr\n",
  });
  try {
    assertUsageError(
      await runIgw(["serve", "-f", t.path("bomb.yaml"), "--port", "0"]),
      /bomb\.yaml:2: its aliases expand to too much data .*alias bomb/,
    );
    // With -f, upstream's --config-file is one more manifest, checked as such.
    assertUsageError(
      await runIgw(["serve", "-f", "examples/seed", "--config-file", t.path("plugins.yaml"), "--port", "0"]),
      /plugins\.yaml:4: EndpointPickerConfig[^\n]*plugins\[0\]\.type[^\n]*queue-scorr/,
    );
  } finally {
    t.cleanup();
  }
});

test("igw serve and igw sim: a port in use is one line and exit 2", async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const port = String((busy.address() as { port: number }).port);
  try {
    const inUse = new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`);
    assertUsageError(
      await runIgw(["serve", "-f", "examples/seed", "--host", "127.0.0.1", "--port", port]),
      inUse,
    );
    assertUsageError(await runIgw(["sim", "--host", "127.0.0.1", "--port", port]), inUse);
  } finally {
    busy.close();
  }
});

test("igw start, sim, demo and bench: usage errors exit 2", async () => {
  assertUsageError(
    await runIgw(["start", "--replicas", "0"]),
    /--replicas <n>.*expected an integer in 1\.\.64/,
  );
  assertUsageError(
    await runIgw(["sim", "--max-model-len", "abc"]),
    /igw sim: --max-model-len: expected a number/,
  );
  assertUsageError(await runIgw(["demo", "--num-prompts", "0"]), /--num-prompts must be a whole number > 0/);
  assertUsageError(
    await runIgw(["demo", "--seed-dir", "test/no-such-dir"]),
    /igw demo: invalid configuration .*\n.*test\/no-such-dir: ENOENT/,
  );
  assertUsageError(await runIgw(["bench", "--port", "abc"]), /--port: expected an integer >= 0/);
  assertUsageError(await runIgw(["frobnicate"]), /unknown command 'frobnicate'/);
});

test("zod's wording does not reach users from any layer (here: an EndpointPickerConfig)", async () => {
  const t = tempFiles({
    "epp.yaml": [
      "apiVersion: inference.networking.x-k8s.io/v1alpha1",
      "kind: EndpointPickerConfig",
      "plugins:",
      "- type: queue-scorer",
      "schedulingProfiles:",
      "- name: default",
      "  plugins:",
      "  - pluginRef: queue-scorer",
      "    weight: abc",
      "",
    ].join("\n"),
  });
  try {
    const r = await runIgw(["serve", "-f", t.dir, "--port", "0"]);
    assertUsageError(
      r,
      /epp\.yaml:9: EndpointPickerConfig: schedulingProfiles\[0\]\.plugins\[0\]\.weight must be a number \(found 'abc'\)/,
    );
    assert.doesNotMatch(r.stderr, /Invalid input|expected number, received/);
  } finally {
    t.cleanup();
  }
});
