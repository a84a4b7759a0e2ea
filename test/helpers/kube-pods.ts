/**
 * Model-server Pods for tests against a real API server with no kubelet: each Pod object gets a
 * loopback podIP (a random 127.A.B.0/24 per run, so two runs at once do not share port 8000)
 * where the test runs an `igw sim`, and its status (Ready or not) is set with kubectl. Plus a
 * completion request that names the Pod that served it, and the polling assertion the
 * Kubernetes tests time changes with.
 */
import assert from "node:assert/strict";
import { randomInt, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeEnv } from "./kube-env.ts";
import { SEED_LORA_ARGS, type SimProcess, startSimProcess } from "./sim-process.ts";

/** Loopback addresses for Pod `i` (0-based) of one test file. */
export function loopbackPods(): { net: string; ipOf(i: number): string } {
  const net = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  return { net, ipOf: (i) => `${net}.${i + 1}` };
}

/** `kube.kubectl`, failing the test on a non-zero exit; returns stdout. */
export function kubectlOk(kube: KubeEnv, args: readonly string[], input?: string): string {
  const r = kube.kubectl(args, input);
  assert.equal(r.status, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The seed on the API server: an `igw sim` (qwen and its LoRA adapters) on `ipOf(i)`:8000 for
 * each of `pods` Pods qwen-I, Ready, and the seed's manifests applied unchanged. Each sim is
 * pushed onto `sims` as it starts (one at a time), so the caller stops it even when a later one fails.
 */
export async function startSeedPods(
  kube: KubeEnv,
  pods: number,
  ipOf: (i: number) => string,
  sims: SimProcess[],
): Promise<void> {
  for (let i = 0; i < pods; i++)
    sims.push(
      await startSimProcess(["--model", "qwen", "--host", ipOf(i), "--port", "8000", ...SEED_LORA_ARGS]),
    );
  kubectlOk(kube, ["apply", "-f", "examples/seed/"]);
  for (let i = 0; i < pods; i++) {
    createQwenPod(kube, i);
    setQwenPodStatus(kube, i, true, ipOf(i));
  }
}

/** Pod `qwen-I` in default, labelled app=qwen (the seed pool's selector). */
export function createQwenPod(kube: KubeEnv, i: number): void {
  kubectlOk(
    kube,
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `qwen-${i}`, namespace: "default", labels: { app: "qwen" } },
      spec: { containers: [{ name: "vllm", image: "vllm/vllm-openai", ports: [{ containerPort: 8000 }] }] },
    }),
  );
}

/** Sets Pod `qwen-I`'s status as a kubelet would: Running on `ip`, Ready or not. */
export function setQwenPodStatus(kube: KubeEnv, i: number, ready: boolean, ip: string): void {
  kubectlOk(kube, [
    "patch",
    "pod",
    `qwen-${i}`,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      },
    }),
  ]);
}

/** Polls `check` every 50 ms until it holds; returns the ms it took, or fails after `limitMs`. */
export async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await sleep(50);
  }
}

/** A completion's status, the endpoint that served it (`x-gateway-destination-endpoint-served`) and body. */
export interface Answer {
  readonly status: number;
  readonly endpoint: string;
  readonly text: string;
}

/** POSTs a short completion of `model` to `url` (with `x-request-id: id` when given). */
export async function complete(url: string, model: string, id?: string): Promise<Answer> {
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(id ? { "x-request-id": id } : {}) },
    // A prompt of its own, so that prefix-cache affinity does not pin every request to one Pod.
    body: JSON.stringify({ model, prompt: `${randomUUID()} plan a trip to Kyoto`, max_tokens: 3 }),
  });
  return {
    status: res.status,
    endpoint: res.headers.get("x-gateway-destination-endpoint-served") ?? "",
    text: await res.text(),
  };
}

/** The seed's two models, each answered as itself, from at least two of the Pods on `net`. */
export async function assertSeedModelsServed(url: string, net: string, rounds = 10): Promise<void> {
  const seen = new Set<string>();
  for (let n = 0; n < rounds; n++)
    for (const model of ["qwen", "travel-helper"]) {
      const r = await complete(url, model);
      assert.equal(r.status, 200, r.text);
      assert.equal((JSON.parse(r.text) as { model: string }).model, model);
      seen.add(r.endpoint);
    }
  for (const e of seen) assert.match(e, new RegExp(`^${net.replaceAll(".", "\\.")}\\.\\d:8000$`));
  assert.ok(seen.size >= 2, `requests went to ${[...seen].join(", ")} only`);
}

/**
 * Of Pods qwen-0..2: makes qwen-1 unready and deletes qwen-2, then, 2 s later, every request goes
 * to qwen-0; qwen-1 Ready again gets requests within 2 s.
 */
export async function assertPodsLeaveAndReturn(
  kube: KubeEnv,
  url: string,
  ipOf: (i: number) => string,
): Promise<void> {
  setQwenPodStatus(kube, 1, false, ipOf(1));
  kubectlOk(kube, ["delete", "pod", "qwen-2", "--wait=false"]);
  await sleep(2000);
  const seen = new Set<string>();
  for (let n = 0; n < 16; n++) {
    const r = await complete(url, "qwen");
    assert.equal(r.status, 200, r.text);
    seen.add(r.endpoint);
  }
  assert.deepEqual([...seen], [`${ipOf(0)}:8000`]);
  setQwenPodStatus(kube, 1, true, ipOf(1));
  await within(2000, "the Pod ready again gets requests", async () => {
    return (await complete(url, "qwen")).endpoint === `${ipOf(1)}:8000`;
  });
}
