import assert from "node:assert/strict";
import { test } from "node:test";
import { renderSvg } from "../../src/bench/vega-render.ts";
import { classLabel } from "../../src/demo/demo-types.ts";
import { type ChartPanel, ttftChartSpec } from "../../src/demo/ttft-chart.ts";

// biome-ignore lint/suspicious/noExplicitAny: reading a Vega-Lite spec
type Spec = any;

/** A burst: every request sent at t=0, completing one after another. */
function burst(n: number, step: number): { sentS: number; doneS: number; ttftMs: number }[] {
  return Array.from({ length: n }, (_, i) => ({ sentS: 0, doneS: (i + 1) * step, ttftMs: 10 + i }));
}

const PANELS: ChartPanel[] = [
  {
    phase: "queueing",
    classes: [
      { label: classLabel("critical", "qwen"), points: burst(3, 1) },
      { label: classLabel("standard", "travel-helper"), points: burst(2, 4) },
    ],
  },
  {
    phase: "round robin",
    classes: [{ label: classLabel("standard", "travel-helper"), points: burst(2, 20.5) }],
  },
];

test("one panel per phase, one row per successful request, phases in run order", () => {
  const spec = ttftChartSpec(PANELS, "t") as Spec;
  assert.equal(spec.data.values.length, 7);
  assert.deepEqual(spec.facet.column.sort, ["queueing", "round robin"]);
  assert.deepEqual([...new Set(spec.data.values.map((v: Spec) => v.phase))], ["queueing", "round robin"]);
});

test("a burst at t=0 spreads out: each request runs from sent to completed, dot at completion", () => {
  const spec = ttftChartSpec(PANELS, "t") as Spec;
  const critical = spec.data.values.filter((v: Spec) => v.class === "Critical (qwen)");
  assert.deepEqual(
    critical.map((v: Spec) => [v.sent_s, v.done_s]),
    [
      [0, 1],
      [0, 2],
      [0, 3],
    ],
  );
  const [rule, dot] = spec.spec.layer;
  assert.deepEqual(
    [rule.mark.type, rule.encoding.x.field, rule.encoding.x2.field],
    ["rule", "sent_s", "done_s"],
  );
  assert.deepEqual([dot.mark.type, dot.encoding.x.field], ["point", "done_s"]);
  assert.equal(dot.encoding.x.title, "time since the phase started (s)");
  assert.equal(dot.encoding.y.scale.type, "log");
});

test("every panel has the same x range, up to the last completion of any phase", () => {
  const spec = ttftChartSpec(PANELS, "t") as Spec;
  for (const layer of spec.spec.layer) assert.deepEqual(layer.encoding.x.scale.domain, [0, 41]);
  assert.equal(spec.resolve.scale.x, "shared");
  assert.equal(spec.resolve.scale.y, "shared");
});

test("one legend, naming the classes Critical and Standard with their models", async () => {
  const spec = ttftChartSpec(PANELS, "t") as Spec;
  assert.equal(spec.resolve.scale.color, "shared");
  for (const layer of spec.spec.layer)
    assert.deepEqual(layer.encoding.color.scale.domain, ["Critical (qwen)", "Standard (travel-helper)"]);
  const svg = await renderSvg(spec);
  assert.equal(svg.match(/>class<\/text>/g)?.length, 1);
  assert.ok(svg.includes("Critical (qwen)") && svg.includes("Standard (travel-helper)"));
});
