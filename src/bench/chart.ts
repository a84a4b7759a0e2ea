import { writeFile } from "node:fs/promises";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { BenchmarkRun } from "./run-types.ts";

type Row = Record<string, string | number>;

/** Chart data derived from a run (pure): CDF points, per-request TTFT, 1 s throughput bins, gauges. */
export function chartData(run: BenchmarkRun): { cdf: Row[]; ttft: Row[]; tput: Row[]; gauges: Row[] } {
  const cdf: Row[] = [];
  const ttft: Row[] = [];
  const tput: Row[] = [];
  for (const c of run.classes) {
    const ok = c.outputs.filter((o) => o.success);
    const sorted = ok.map((o) => o.ttft * 1000).sort((a, b) => a - b);
    sorted.forEach((v, i) => {
      cdf.push({ class: c.name, ttft_ms: v, fraction: (i + 1) / sorted.length });
    });
    const bins: number[] = [];
    for (const o of ok) {
      const sent = o.startTime - run.t0;
      ttft.push({ class: c.name, sent_s: sent, ttft_ms: o.ttft * 1000 });
      let t = sent + o.ttft;
      const add = (x: number) => {
        const b = Math.max(0, Math.floor(x));
        bins[b] = (bins[b] ?? 0) + 1;
      };
      add(t);
      for (const g of o.itl) {
        t += g;
        add(t);
      }
    }
    for (let b = 0; b < bins.length; b++) tput.push({ class: c.name, t_s: b, tokens_per_s: bins[b] ?? 0 });
  }
  const gauges: Row[] = [];
  const many = new Set(run.samples.map((s) => s.url)).size > 1;
  for (const s of run.samples) {
    const at = many ? ` @ ${s.url}` : "";
    if (s.running !== null) gauges.push({ series: `running${at}`, t_s: s.t, value: s.running });
    if (s.waiting !== null) gauges.push({ series: `waiting${at}`, t_s: s.t, value: s.waiting });
    if (s.kvCacheUsage !== null)
      gauges.push({ series: `KV cache %${at}`, t_s: s.t, value: s.kvCacheUsage * 100 });
  }
  return { cdf, ttft, tput, gauges };
}

/** The Vega-Lite spec: TTFT CDF and TTFT over time (top), output tokens/s and server gauges (bottom). */
export function chartSpec(run: BenchmarkRun): TopLevelSpec {
  const d = chartData(run);
  const names = run.classes.map((c) => c.name);
  const color = {
    field: "class",
    type: "nominal",
    title: "class",
    scale: { domain: names, scheme: "category10" },
  };
  const w = 420;
  const h = 240;
  const bottom: object[] = [
    {
      title: "Output tokens per second, per class (1 s bins)",
      width: w,
      height: h,
      data: { values: d.tput },
      mark: { type: "line", interpolate: "step-after", point: true },
      encoding: {
        x: { field: "t_s", type: "quantitative", title: "time since start (s)", axis: { tickMinStep: 1 } },
        y: { field: "tokens_per_s", type: "quantitative", title: "output tokens/s" },
        color,
      },
    },
  ];
  if (d.gauges.length > 0) {
    bottom.push({
      title: "Server load (scraped once a second)",
      width: w,
      height: h,
      data: { values: d.gauges },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "t_s", type: "quantitative", title: "time since start (s)" },
        y: { field: "value", type: "quantitative", title: "requests / KV %" },
        color: { field: "series", type: "nominal", title: "server gauge", scale: { scheme: "dark2" } },
      },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    title: {
      text: "igw bench: per-class latency and throughput",
      subtitle: "A class whose CDF sits further left gets its first token sooner.",
    },
    vconcat: [
      {
        hconcat: [
          {
            title: "TTFT distribution (CDF)",
            width: w,
            height: h,
            data: { values: d.cdf },
            mark: { type: "line", interpolate: "step-after" },
            encoding: {
              x: { field: "ttft_ms", type: "quantitative", title: "TTFT (ms)" },
              y: {
                field: "fraction",
                type: "quantitative",
                title: "fraction of requests",
                scale: { domain: [0, 1] },
              },
              color,
            },
          },
          {
            title: "TTFT of each request by send time",
            width: w,
            height: h,
            data: { values: d.ttft },
            mark: { type: "point", filled: true, size: 12, opacity: 0.6 },
            encoding: {
              x: { field: "sent_s", type: "quantitative", title: "sent at (s since start)" },
              y: { field: "ttft_ms", type: "quantitative", title: "TTFT (ms)" },
              color,
            },
          },
        ],
      },
      { hconcat: bottom, resolve: { scale: { color: "independent" } } },
    ],
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
}

/** Renders the run's chart to SVG text (Vega headless, no canvas). */
export async function renderChartSvg(run: BenchmarkRun): Promise<string> {
  const { spec } = compile(chartSpec(run));
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart to `path`: SVG for *.svg, PNG (via resvg, 2x) for *.png. */
export async function writeChart(run: BenchmarkRun, path: string): Promise<void> {
  const svg = await renderChartSvg(run);
  if (path.toLowerCase().endsWith(".png")) {
    const png = new Resvg(svg, {
      background: "white",
      fitTo: { mode: "zoom", value: 2 },
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    })
      .render()
      .asPng();
    await writeFile(path, png);
  } else if (path.toLowerCase().endsWith(".svg")) {
    await writeFile(path, svg);
  } else {
    throw new Error(`--plot ${path}: the file must end in .svg or .png`);
  }
}
