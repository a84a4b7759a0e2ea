/**
 * The demo's chart: TTFT of every request by the time it was sent, one panel per phase (queueing,
 * round robin, Critical alone), coloured by class. Vega-Lite rendered headless to SVG, PNG via resvg.
 */
import { writeFile } from "node:fs/promises";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One panel: a phase label and its classes' (send time s, TTFT ms) points. */
export interface ChartPanel {
  readonly phase: string;
  readonly classes: readonly {
    readonly name: string;
    readonly points: readonly { sentS: number; ttftMs: number }[];
  }[];
}

/** The Vega-Lite spec (pure). */
export function ttftChartSpec(panels: readonly ChartPanel[], title: string): TopLevelSpec {
  const values = panels.flatMap((p) =>
    p.classes.flatMap((c) =>
      c.points.map((pt) => ({ phase: p.phase, class: c.name, sent_s: pt.sentS, ttft_ms: pt.ttftMs })),
    ),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    data: { values },
    facet: { column: { field: "phase", type: "nominal", title: null, sort: panels.map((p) => p.phase) } },
    spec: {
      width: 360,
      height: 260,
      mark: { type: "point", filled: true, size: 14, opacity: 0.65 },
      encoding: {
        x: { field: "sent_s", type: "quantitative", title: "request sent at (s since start)" },
        y: { field: "ttft_ms", type: "quantitative", title: "TTFT (ms, log scale)", scale: { type: "log" } },
        color: { field: "class", type: "nominal", title: "class" },
      },
    },
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}

/** Writes the chart as `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeTtftChart(
  panels: readonly ChartPanel[],
  title: string,
  base: string,
): Promise<string[]> {
  const { spec } = compile(ttftChartSpec(panels, title));
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const png = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, png);
  return [`${base}.svg`, `${base}.png`];
}
