import assert from "node:assert/strict";
import { test } from "node:test";
import { chartData, chartSpec, classLabel, renderChartSvg } from "../../src/bench/chart.ts";
import type { BenchmarkRun } from "../../src/bench/run-types.ts";
import { loadTraceRun } from "./trace-fixture.ts";

function twoClassRun(servers = ["http://127.0.0.1:8000/metrics"]): BenchmarkRun {
  const { run } = loadTraceRun();
  const b = {
    ...run,
    name: "standard",
    model: "travel-helper",
    priority: 1,
    outputs: run.outputs.map((o) => ({ ...o, ttft: o.ttft * 3 })),
  };
  return {
    startedAt: new Date(0),
    t0: 0,
    classes: [{ ...run, name: "critical", model: "qwen", priority: 0 }, b],
    aggregate: run,
    multiClass: true,
    samples: servers.flatMap((url) => [
      { t: 0, url, running: 1, waiting: 0, kvCacheUsage: 0.5 },
      { t: 1, url, running: 2, waiting: 3, kvCacheUsage: null },
    ]),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: walking a Vega-Lite spec
type Spec = any;

/** Every sub-view of a (v|h)concat/layer tree, depth first. */
function views(spec: Spec): Spec[] {
  const kids = [...(spec.vconcat ?? []), ...(spec.hconcat ?? []), ...(spec.layer ?? [])];
  return [spec, ...kids.flatMap(views)];
}

test("chart data: per-class CDF rises to 1, throughput bins hold every token, gauges become series", () => {
  const run = twoClassRun();
  const d = chartData(run);
  for (const name of ["critical (qwen, priority 0)", "standard (travel-helper, priority 1)"]) {
    const cdf = d.cdf.filter((r) => r["class"] === name);
    assert.equal(cdf.length, run.classes[0]!.metrics.completed);
    assert.equal(cdf.at(-1)!["fraction"], 1);
    for (let i = 1; i < cdf.length; i++)
      assert.ok((cdf[i]!["ttft_ms"] as number) >= (cdf[i - 1]!["ttft_ms"] as number));
  }
  const tokens = d.tput
    .filter((r) => r["class"] === "critical (qwen, priority 0)")
    .reduce((a, r) => a + (r["tokens_per_s"] as number), 0);
  const chunks = run.classes[0]!.outputs.filter((o) => o.success).reduce((a, o) => a + o.itl.length + 1, 0);
  assert.equal(tokens, chunks);
  assert.deepEqual(
    d.requests.map((g) => [g["series"], g["value"]]),
    [
      ["running", 1],
      ["waiting", 0],
      ["running", 2],
      ["waiting", 3],
    ],
  );
  assert.deepEqual(
    d.kv.map((g) => [g["series"], g["value"]]),
    [["127.0.0.1:8000", 50]],
  );
  assert.deepEqual(d.servers, ["127.0.0.1:8000"]);
});

test("each request is drawn from when it was sent to when it completed, on the run's clock", () => {
  const run = twoClassRun();
  const d = chartData(run);
  const ok = run.classes[0]!.outputs.filter((o) => o.success);
  const rows = d.timeline.filter((r) => r.class === "critical (qwen, priority 0)");
  assert.equal(rows.length, ok.length);
  rows.forEach((r, i) => {
    assert.equal(r.sent_s, ok[i]!.startTime);
    assert.equal(r.done_s, ok[i]!.startTime + ok[i]!.latency);
    assert.ok(r.done_s > r.sent_s);
  });
  const panel = views(chartSpec(run)).find((v) => v.title === "Each request over time (TTFT)");
  const [rule, dot] = panel.layer;
  assert.equal(rule.mark.type, "rule");
  assert.equal(rule.encoding.x.field, "sent_s");
  assert.equal(rule.encoding.x2.field, "done_s");
  assert.equal(dot.mark.type, "point");
  assert.equal(dot.encoding.x.field, "done_s");
  // Time panels share one x range that ends at (or just after) the last completion.
  const last = Math.max(...d.timeline.map((r) => r.done_s));
  const domains = views(chartSpec(run))
    .filter((v) => v.encoding?.x?.field === "t_s" || v.encoding?.x?.field === "done_s")
    .map((v) => v.encoding.x.scale.domain);
  assert.ok(domains.length >= 4);
  for (const dom of domains) assert.deepEqual(dom, [0, Math.ceil(last)]);
});

test("one class legend, naming each class with its model and priority", async () => {
  assert.equal(classLabel({ name: "critical", model: "qwen", priority: 0 }), "critical (qwen, priority 0)");
  assert.equal(classLabel({ name: "qwen", model: "qwen", priority: undefined }), "qwen");
  const spec = chartSpec(twoClassRun());
  const classColours = views(spec)
    .map((v) => v.encoding?.color)
    .filter((c) => c?.field === "class");
  assert.ok(classColours.length >= 4);
  for (const c of classColours)
    assert.deepEqual(c.scale.domain, ["critical (qwen, priority 0)", "standard (travel-helper, priority 1)"]);
  assert.equal(spec.resolve, undefined, "class colours share one scale, so one legend");
  const svg = await renderChartSvg(twoClassRun());
  assert.equal(svg.match(/>class<\/text>/g)?.length, 1, "exactly one class legend");
  assert.ok(svg.includes("critical (qwen, priority 0)"));
  assert.ok(svg.includes("standard (travel-helper, priority 1)"));
});

test("server load: requests and KV-cache % on separate axes, titled with the server they show", () => {
  const one = views(chartSpec(twoClassRun()));
  const requests = one.find((v) => String(v.title).startsWith("Requests on "));
  const kv = one.find((v) => String(v.title).startsWith("KV-cache use on "));
  assert.equal(requests.title, "Requests on 127.0.0.1:8000 (scraped once a second)");
  assert.equal(kv.title, "KV-cache use on 127.0.0.1:8000");
  assert.equal(requests.encoding.y.title, "requests (running, waiting)");
  assert.equal(kv.encoding.y.title, "KV cache used (%)");
  assert.deepEqual(kv.encoding.y.scale.domain, [0, 100]);
  assert.equal(kv.encoding.color.legend, null, "one server: no server legend");

  const three = views(
    chartSpec(
      twoClassRun([
        "http://10.0.0.1:8000/metrics",
        "http://10.0.0.2:8000/metrics",
        "http://10.0.0.3:8000/metrics",
      ]),
    ),
  );
  assert.equal(
    three.find((v) => String(v.title).startsWith("KV-cache use on ")).title,
    "KV-cache use on 3 servers (10.0.0.1:8000 … 10.0.0.3:8000)",
  );
  const series = chartData(twoClassRun(["http://a:1/metrics", "http://b:2/metrics"])).requests.map(
    (r) => r["series"],
  );
  assert.ok(series.includes("running @ a:1") && series.includes("waiting @ b:2"));
});

test("without scraped metrics there is no server panel", () => {
  const run = { ...twoClassRun(), samples: [] };
  assert.equal(
    views(chartSpec(run)).some((v) => String(v.title ?? "").includes("KV-cache")),
    false,
  );
});

test("the SVG names every panel", async () => {
  const svg = await renderChartSvg(twoClassRun());
  for (const text of [
    "TTFT distribution (CDF)",
    "Each request over time (TTFT)",
    "Output tokens per second",
    "Requests on 127.0.0.1:8000",
    "KV-cache use on 127.0.0.1:8000",
  ]) {
    assert.ok(svg.includes(text), text);
  }
});
