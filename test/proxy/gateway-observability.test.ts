/**
 * What the gateway tells about itself on its own listener, against fake model servers: the
 * dashboard page and event stream on `/dashboard`, explanations built only while a page is open,
 * a rejected reload shown on the page, and the access log's line per request.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import type { RunningGateway } from "../../src/gateway/start-gateway.ts";
import type { ExchangeView } from "../../src/requestcontrol/exchange-view.ts";
import { captureLogger } from "../helpers/capture-logger.ts";
import { openDashboardEvents } from "../helpers/dashboard-events.ts";
import { echoHandler, type FakeUpstream, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { type InProcessGateway, startInProcessGateway } from "../helpers/in-process-gateway.ts";

const MANIFESTS = `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata:
  name: pool
  annotations: {inference-epp-env.networking.x-k8s.io/experimental-use-scheduler-v2: "true"}
spec:
  selector: {app: t}
  targetPortNumber: 8000
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat}
spec:
  modelName: chat
  criticality: Critical
  poolRef: {name: pool}
  targetModels: [{name: chat-v1}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: pool}]
`;

const POOL = "default/pool";

function post(gw: RunningGateway, body: unknown, headers: Record<string, string> = {}) {
  return request(`${gw.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("the gateway's dashboard and access log", () => {
  const ups: FakeUpstream[] = [];
  const access = captureLogger();
  let h: InProcessGateway;
  let gw: RunningGateway;
  before(async () => {
    for (let i = 0; i < 2; i++) ups.push(await startFakeUpstream(echoHandler));
    h = await startInProcessGateway(
      MANIFESTS,
      ups.map((u) => u.address),
      { app: "t" },
      { accessLog: access.logger },
    );
    gw = h.gw;
  });
  after(async () => {
    await h.close();
    for (const u of ups) await u.close();
  });

  test("/dashboard serves the page and its assets on the gateway's listener", async () => {
    for (const path of ["/dashboard", "/dashboard/", "/dashboard/app.js", "/dashboard/app.css"]) {
      const res = await request(`${gw.url}${path}`);
      await res.body.text();
      assert.equal(res.statusCode, 200, path);
      assert.match(String(res.headers["content-security-policy"]), /default-src 'self'/);
    }
    const missing = await request(`${gw.url}/dashboard/nope`);
    await missing.body.text();
    assert.equal(missing.statusCode, 404);
  });

  test("the event stream shows the pool and its endpoints; decisions are explained only while a page is open", async () => {
    const explained: (ExchangeView["explanation"] | undefined)[] = [];
    const off = gw.director.hooks.on("scheduled", (ex) => explained.push(ex.explanation));
    try {
      await (await post(gw, { model: "chat", prompt: "closed" })).body.text();
      assert.deepEqual(explained, [undefined], "no page open: no explanation built");

      const page = await openDashboardEvents(gw.url);
      try {
        const pools = await page.next("pools");
        const pool = pools.pools.find((p) => p.pool === POOL);
        assert.ok(pool, JSON.stringify(pools));
        assert.deepEqual(pool.endpoints.map((e) => e.id).sort(), ups.map((u) => u.address).sort());
        const res = await post(gw, { model: "chat", prompt: "open" }, { "x-request-id": "seen" });
        await res.body.text();
        assert.equal(
          res.headers["x-gateway-scheduling-decision"],
          undefined,
          "no header without --explain-decisions",
        );
        assert.ok(explained[1], "a page is open: the decision is explained");
        const d = await page.next("decisions", (e) => e.decisions.some((x) => x.requestId === "seen"));
        const record = d.decisions.find((x) => x.requestId === "seen")!;
        assert.equal(record.candidates.length, 2, "both endpoints' scores");
        assert.equal(record.candidates[0]!.endpoint, record.endpoints[0]);
        assert.ok(Object.keys(record.candidates[1]!.scores).length > 0);
      } finally {
        page.close();
      }
      // Once the page is gone, nothing is built again.
      const deadline = Date.now() + 5000;
      for (;;) {
        explained.length = 0;
        await (await post(gw, { model: "chat", prompt: "closed again" })).body.text();
        if (explained[0] === undefined) break;
        assert.ok(Date.now() < deadline, "explanations stop once the page closed");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      off();
    }
  });

  test("a rejected reload shows on the page with its errors; the running configuration stays", async () => {
    writeFileSync(
      h.files.path("gateway.yaml"),
      `${MANIFESTS}---\nkind: InferenceModel\napiVersion: nope/v1\n`,
    );
    try {
      assert.equal(gw.reload(), false);
      const page = await openDashboardEvents(gw.url);
      try {
        const { config } = await page.next("config");
        assert.ok(config.rejected, "rejected");
        assert.match(config.rejected.errors.join("\n"), /gateway\.yaml:\d+/);
        assert.equal(config.pools, 1, "the running configuration stays");
      } finally {
        page.close();
      }
    } finally {
      writeFileSync(h.files.path("gateway.yaml"), MANIFESTS);
      assert.equal(gw.reload(), true);
    }
    const page = await openDashboardEvents(gw.url);
    try {
      assert.equal((await page.next("config")).config.rejected, null, "an accepted reload clears it");
    } finally {
      page.close();
    }
  });

  test("the access log has one line per request with the designed fields", async () => {
    access.records.length = 0;
    const res = await post(gw, { model: "chat", prompt: "hi", stream: true }, { "x-request-id": "acc-1" });
    await res.body.text();
    const refused = await post(gw, { prompt: "no model" }, { "x-request-id": "acc-2" });
    await refused.body.text();
    assert.equal(refused.statusCode, 400);
    const lines = access.records as unknown as Record<string, unknown>[];
    const ok = lines.find((l) => l["id"] === "acc-1")!;
    assert.equal(ok["msg"], "POST /v1/completions 200");
    assert.equal(ok["model"], "chat");
    assert.equal(ok["targetModel"], "chat-v1");
    assert.ok(ups.some((u) => u.address === ok["endpoint"]));
    assert.equal(ok["status"], 200);
    assert.equal(ok["outcome"], "completed");
    assert.equal(ok["errorCode"], null);
    assert.equal(ok["queueMs"], 0);
    assert.equal(typeof ok["ttftMs"], "number");
    assert.ok((ok["ttftMs"] as number) <= (ok["durationMs"] as number));
    assert.equal(ok["priority"], 1);
    assert.equal(ok["attempts"], 1);
    for (const k of ["tokensIn", "tokensOut"]) assert.ok(k in ok, k);
    const bad = lines.find((l) => l["id"] === "acc-2")!;
    assert.equal(bad["msg"], "POST /v1/completions 400");
    assert.equal(bad["outcome"], "refused");
    assert.equal(bad["model"], "");
    assert.equal(bad["targetModel"], null);
    assert.equal(bad["endpoint"], null);
    assert.equal(bad["ttftMs"], null);
    assert.equal(typeof bad["errorCode"], "string");
  });
});

test("dashboard: false leaves /dashboard unanswered (404)", async () => {
  const { gw, close } = await startInProcessGateway(MANIFESTS, null, {}, { dashboard: false });
  try {
    const res = await request(`${gw.url}/dashboard`);
    await res.body.text();
    assert.equal(res.statusCode, 404);
  } finally {
    await close();
  }
});
