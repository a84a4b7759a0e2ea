/**
 * `igw serve --kube` against a real kube-apiserver (one per file, shared by the cases): the seed's
 * three manifests applied unchanged with the real kubectl, Pod objects whose status the test sets
 * (no kubelet: podIP on a loopback address where an `igw sim` listens on the pool's target port
 * 8000, Ready), then changes made through the API server take effect within 2 s; an invalid
 * object is reported as an Event and a condition and not applied; status is written; the API
 * server restarted under load loses no request and the watches resume.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EXT_PROC_SERVICE } from "../../src/extproc/protocol.ts";
import { type EppProcess, startEppProcess } from "../helpers/epp-process.ts";
import { type GatewayProcess, startGatewayProcess } from "../helpers/gateway-process.ts";
import { healthClient } from "../helpers/grpc-health.ts";
import { type KubeEnv, startKubeEnv } from "../helpers/kube-env.ts";
import {
  assertPodsLeaveAndReturn,
  assertSeedModelsServed,
  complete,
  kubectlOk,
  loopbackPods,
  startSeedPods,
  within,
} from "../helpers/kube-pods.ts";
import type { SimProcess } from "../helpers/sim-process.ts";

const PODS = 3;
const { net: NET, ipOf } = loopbackPods();

describe("igw serve --kube against a real API server", () => {
  let kube: KubeEnv;
  const sims: SimProcess[] = [];
  let gw: GatewayProcess;

  const kubectl = (args: string[], input?: string): string => kubectlOk(kube, args, input);
  /** Creates or changes InferenceModel `name` (modelName the same) in default. */
  const applyModel = (name: string, spec: Record<string, unknown>) =>
    kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "inference.networking.x-k8s.io/v1alpha2",
        kind: "InferenceModel",
        metadata: { name, namespace: "default" },
        spec: { modelName: name, ...spec },
      }),
    );
  /** The access-log line of request `id`. */
  const logged = (id: string): { priority: number; targetModel: string } | undefined => {
    for (const line of gw.stderr().split("\n")) {
      if (!line.includes(`"id":"${id}"`)) continue;
      return JSON.parse(line) as { priority: number; targetModel: string };
    }
    return undefined;
  };

  before(async () => {
    kube = await startKubeEnv();
    await startSeedPods(kube, PODS, ipOf, sims);
    gw = await startGatewayProcess(["--kube", "--kubeconfig", kube.kubeconfig, "--access-log"]);
  });
  after(async () => {
    await gw?.stop();
    await Promise.all(sims.map((s) => s.stop()));
    await kube?.stop();
  });

  test("the seed's manifests, applied unchanged, serve qwen and travel-helper on the Pods", async () => {
    await assertSeedModelsServed(gw.url, NET);
  });

  test("InferencePool, HTTPRoute, Gateway and InferenceModel status is written, visible with kubectl get", async () => {
    type Cond = { type: string; status: string; reason: string };
    const conditions = (list: Cond[] | undefined) =>
      Object.fromEntries((list ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
    const get = (resource: string, name: string) =>
      JSON.parse(kubectl(["get", resource, name, "-o", "json"])) as { status?: Record<string, unknown> };
    await within(10_000, "status written", async () => {
      const pool = get("inferencepools.inference.networking.x-k8s.io", "qwen-pool").status;
      return (
        (pool?.["parent"] as { parentRef: { kind: string } }[] | undefined)?.[0]?.parentRef.kind === "Gateway"
      );
    });
    const pool = get("inferencepools.inference.networking.x-k8s.io", "qwen-pool").status?.["parent"] as {
      parentRef: { name: string; namespace: string };
      conditions: Cond[];
    }[];
    assert.deepEqual(
      pool.map((p) => [p.parentRef.namespace, p.parentRef.name, conditions(p.conditions)]),
      [["default", "inference-gateway", { Accepted: "True Accepted", ResolvedRefs: "True ResolvedRefs" }]],
    );
    const route = get("httproute", "llm-route").status?.["parents"] as {
      controllerName: string;
      parentRef: { name: string; sectionName: string };
      conditions: Cond[];
    }[];
    assert.deepEqual(
      route.map((p) => [
        p.controllerName,
        p.parentRef.name,
        p.parentRef.sectionName,
        conditions(p.conditions),
      ]),
      [
        [
          "inference-gateway.dev/igw",
          "inference-gateway",
          "llm-gw",
          { Accepted: "True Accepted", ResolvedRefs: "True ResolvedRefs" },
        ],
      ],
    );
    const gateway = get("gateway", "inference-gateway").status as {
      conditions: Cond[];
      listeners: { name: string; attachedRoutes: number; conditions: Cond[] }[];
    };
    assert.deepEqual(conditions(gateway.conditions), {
      Accepted: "True Accepted",
      Programmed: "True Programmed",
    });
    assert.deepEqual(
      gateway.listeners.map((l) => [l.name, l.attachedRoutes, conditions(l.conditions)["Programmed"]]),
      [["llm-gw", 1, "True Programmed"]],
    );
    const model = get("inferencemodel", "qwen-model").status?.["conditions"] as Cond[];
    assert.deepEqual(conditions(model), { Accepted: "True Accepted" });
  });

  test("a new InferenceModel is served, and an edited criticality and weight take effect, within 2 s", async () => {
    const model = (criticality: string, target: string) =>
      applyModel("travel-helper-kyoto", {
        criticality,
        poolRef: { name: "qwen-pool" },
        targetModels: [{ name: target, weight: 100 }],
      });
    assert.equal((await complete(gw.url, "travel-helper-kyoto")).status, 404);
    model("Critical", "travel-helper-v1");
    const served = await within(2000, "the new InferenceModel served", async () => {
      return (await complete(gw.url, "travel-helper-kyoto")).status === 200;
    });
    let id = `crit-${Date.now()}`;
    assert.equal((await complete(gw.url, "travel-helper-kyoto", id)).status, 200);
    await within(1000, "access log line", async () => logged(id) !== undefined);
    assert.deepEqual(
      { priority: logged(id)?.priority, target: logged(id)?.targetModel },
      { priority: 1, target: "travel-helper-v1" },
    );

    model("Sheddable", "travel-helper-v2");
    let n = 0;
    const edited = await within(2000, "the edited criticality and weight", async () => {
      id = `edit-${n++}`;
      if ((await complete(gw.url, "travel-helper-kyoto", id)).status !== 200) return false;
      await within(1000, "access log line", async () => logged(id) !== undefined);
      const line = logged(id);
      return line?.priority === -1 && line.targetModel === "travel-helper-v2";
    });
    console.error(`new InferenceModel served after ${served} ms, edit effective after ${edited} ms`);
  });

  test("an invalid object is reported as an Event, is not applied, and the rest keeps serving", async () => {
    applyModel("travel-helper-orphan", { poolRef: { name: "no-such-pool" } });
    await within(5000, "a Warning Event on InferenceModel travel-helper-orphan", async () => {
      const out = kubectl([
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=InferenceModel,involvedObject.name=travel-helper-orphan",
        "-o",
        "json",
      ]);
      const events = (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] })
        .items;
      return events.some(
        (e) =>
          e.type === "Warning" &&
          e.reason === "InvalidConfiguration" &&
          /spec\.poolRef\.name.*InferencePool default\/no-such-pool is not defined/.test(e.message),
      );
    });
    await within(5000, "Accepted=False on InferenceModel travel-helper-orphan", async () => {
      const out = kubectl([
        "get",
        "inferencemodel",
        "travel-helper-orphan",
        "-o",
        "jsonpath={.status.conditions}",
      ]);
      const c = (
        JSON.parse(out || "[]") as { type: string; status: string; reason: string; message: string }[]
      )[0];
      return (
        c?.type === "Accepted" &&
        c.status === "False" &&
        c.reason === "Invalid" &&
        /no-such-pool/.test(c.message)
      );
    });
    assert.equal((await complete(gw.url, "travel-helper-orphan")).status, 404);
    assert.equal((await complete(gw.url, "qwen")).status, 200);
    assert.match(gw.stderr(), /InferenceModel default\/travel-helper-orphan/);
  });

  test("an unready Pod and a deleted Pod get no new request 2 s after the change", async () => {
    await assertPodsLeaveAndReturn(kube, gw.url, ipOf);
  });

  test("the API server restarted under load: no request is lost and the watches resume", async () => {
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const client = async () => {
      while (!stop) {
        const r = await complete(gw.url, "qwen").catch((e: Error) => ({ status: 0, text: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.text}`);
        done++;
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await sleep(300);
    const { downAt, readyAt } = await kube.restartApiserver(1000);
    await sleep(300);
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(done > 20, `only ${done} requests completed`);
    // Watches resume: a change made after the restart is applied.
    applyModel("travel-helper-after-restart", {
      poolRef: { name: "qwen-pool" },
      targetModels: [{ name: "travel-helper-v1", weight: 1 }],
    });
    const resumed = await within(35_000, "a change after the restart applied", async () => {
      return (await complete(gw.url, "travel-helper-after-restart")).status === 200;
    });
    console.error(
      `API server down for ${readyAt - downAt} ms; ${done} requests, none failed; ` +
        `change applied ${resumed} ms after the restart`,
    );
  });

  test("two replicas with --leader-elect: one holds the Lease; kill it and the other takes over and writes status", async () => {
    await gw.stop(); // not in the election: it would write status too
    const LEASE_S = 3;
    const args = [
      "--kube",
      "--kubeconfig",
      kube.kubeconfig,
      "--leader-elect",
      "--leader-elect-lease-name",
      "igw-test",
    ];
    const holder = () => {
      const r = kube.kubectl(["get", "lease", "igw-test", "-o", "jsonpath={.spec.holderIdentity}"]);
      return r.status === 0 ? r.stdout : "";
    };
    const a = await startGatewayProcess([...args, "--leader-elect-lease-duration", `${LEASE_S}s`]);
    let b: GatewayProcess | undefined;
    try {
      const idA = `${hostname()}_${a.child.pid}`;
      await within(10_000, "A holds the Lease", async () => holder() === idA);
      b = await startGatewayProcess([...args, "--leader-elect-lease-duration", `${LEASE_S}s`]);
      const idB = `${hostname()}_${b.child.pid}`;
      await sleep(LEASE_S * 1000);
      assert.equal(holder(), idA, "the Lease changed hands while its holder renewed it");
      assert.doesNotMatch(b.stderr(), /became the leader/);
      // Both serve; only the leader writes status.
      assert.equal((await complete(b.url, "qwen")).status, 200);

      a.child.kill("SIGKILL");
      const killedAt = Date.now();
      const failover = await within(LEASE_S * 1000 * 3, "B takes the Lease", async () => holder() === idB);
      await within(2000, "B says so", async () => /became the leader/.test(b!.stderr()));
      applyModel("travel-helper-leader", { poolRef: { name: "qwen-pool" } });
      const written = await within(5000, "the new leader writes status", async () => {
        const out = kubectl([
          "get",
          "inferencemodel",
          "travel-helper-leader",
          "-o",
          "jsonpath={.status.conditions[0].reason}",
        ]);
        return out === "Accepted";
      });
      console.error(
        `leader failover: Lease taken ${failover} ms after the leader was killed (lease duration ${LEASE_S} s); ` +
          `status written ${written} ms after the change (total ${Date.now() - killedAt} ms)`,
      );
      // Within the lease duration plus one retry period (duration / 7) and a poll.
      assert.ok(failover <= LEASE_S * 1000 * (1 + 1 / 7) + 500, `failover took ${failover} ms`);
    } finally {
      await a.stop();
      await b?.stop();
    }
  });

  test("igw epp --kube: two replicas, only the leader reports SERVING; kill it and the other does", async () => {
    const LEASE_S = 3;
    const args = [
      "--kube",
      "--kubeconfig",
      kube.kubeconfig,
      "--pool-name",
      "qwen-pool",
      "--leader-elect",
      "--leader-elect-lease-name",
      "igw-epp-test",
      "--leader-elect-lease-duration",
      `${LEASE_S}s`,
    ];
    const a = await startEppProcess(args);
    let b: EppProcess | undefined;
    const ha = healthClient(a.healthPort);
    let hb: ReturnType<typeof healthClient> | undefined;
    try {
      assert.equal(a.poolKey, "default/qwen-pool");
      await within(10_000, "A is the leader, SERVING", async () => (await ha.check("")) === "SERVING");
      b = await startEppProcess(args);
      hb = healthClient(b.healthPort);
      const follower = hb;
      assert.equal(await follower.check(EXT_PROC_SERVICE), "NOT_SERVING");
      await a.kill();
      const killedAt = Date.now();
      await within(
        LEASE_S * 3000,
        "B becomes SERVING",
        async () => (await follower.check(EXT_PROC_SERVICE)) === "SERVING",
      );
      console.error(
        `igw epp failover: the follower reported SERVING ${Date.now() - killedAt} ms after the leader was killed`,
      );
    } finally {
      ha.close();
      hb?.close();
      await a.stop();
      await b?.stop();
    }
  });
});
