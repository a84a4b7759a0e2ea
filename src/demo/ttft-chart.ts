/**
 * The demo's chart: TTFT of every request over the time of its phase (sent → completed), one panel
 * per phase (queueing, round robin, Critical alone) on one x range, coloured by class with the
 * class's criticality in the legend. Vega-Lite rendered headless to SVG, PNG via resvg.
 */
import { writeFile } from "node:fs/promises";
import type { TopLevelSpec } from "vega-lite";
import {
  TIMELINE_NOTE,
  type TimelinePoint,
  timelineDomain,
  timelineLayers,
  timelineRows,
} from "../bench/request-timeline.ts";
import { renderSvg, svgToPng } from "../bench/vega-render.ts";

/** One panel: a phase label and its classes' requests (s since the phase started, TTFT ms). */
export interface ChartPanel {
  readonly phase: string;
  readonly classes: readonly {
    /** Legend label, e.g. "Critical (qwen)". */
    readonly label: string;
    readonly points: readonly TimelinePoint[];
  }[];
}

/** The Vega-Lite spec (pure): one facet column per phase, shared x and y, one class legend. */
export function ttftChartSpec(panels: readonly ChartPanel[], title: string): TopLevelSpec {
  const values = panels.flatMap((p) =>
    p.classes.flatMap((c) => timelineRows(c.label, c.points).map((r) => ({ phase: p.phase, ...r }))),
  );
  const labels = [...new Set(panels.flatMap((p) => p.classes.map((c) => c.label)))];
  const color = {
    field: "class",
    type: "nominal",
    title: "class",
    scale: { domain: labels },
    legend: { labelLimit: 400, symbolOpacity: 1 },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    title: {
      text: title,
      subtitle: TIMELINE_NOTE,
    },
    data: { values },
    facet: { column: { field: "phase", type: "nominal", title: null, sort: panels.map((p) => p.phase) } },
    spec: {
      width: 360,
      height: 260,
      layer: timelineLayers(color, "time since the phase started (s)", timelineDomain(values), true),
    },
    resolve: { scale: { x: "shared", y: "shared", color: "shared" } },
  } as TopLevelSpec;
}

/** Writes the chart as `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeTtftChart(
  panels: readonly ChartPanel[],
  title: string,
  base: string,
): Promise<string[]> {
  const svg = await renderSvg(ttftChartSpec(panels, title));
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, svgToPng(svg));
  return [`${base}.svg`, `${base}.png`];
}
