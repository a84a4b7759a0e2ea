/**
 * `igw bench --plot`: per-class TTFT distribution, each request over time (sent → completed),
 * output tokens per second, and with --scrape-metrics the scraped servers' requests and KV-cache
 * use on separate axes. One class legend; the server panels name the servers they show.
 */
import { writeFile } from "node:fs/promises";
import type { TopLevelSpec } from "vega-lite";
import {
  TIMELINE_NOTE,
  type TimelineRow,
  timelineDomain,
  timelineLayers,
  timelinePoints,
  timelineRows,
} from "./request-timeline.ts";
import type { BenchmarkRun, ClassRun } from "./run-types.ts";
import { renderSvg, svgToPng } from "./vega-render.ts";

type Row = Record<string, string | number>;

/** How the legend names a class: its name, then the model and priority it sends. */
export function classLabel(c: Pick<ClassRun, "name" | "model" | "priority">): string {
  const extra = [c.model !== c.name ? c.model : "", c.priority !== undefined ? `priority ${c.priority}` : ""]
    .filter((s) => s !== "")
    .join(", ");
  return extra ? `${c.name} (${extra})` : c.name;
}

/** `host:port` of a scraped URL (the URL itself when it does not parse). */
function serverName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Chart data derived from a run (pure): CDF points, per-request timeline, 1 s throughput bins, gauges. */
export function chartData(run: BenchmarkRun): {
  cdf: Row[];
  timeline: TimelineRow[];
  tput: Row[];
  requests: Row[];
  kv: Row[];
  servers: string[];
} {
  const cdf: Row[] = [];
  const timeline: TimelineRow[] = [];
  const tput: Row[] = [];
  for (const c of run.classes) {
    const label = classLabel(c);
    const ok = c.outputs.filter((o) => o.success);
    const sorted = ok.map((o) => o.ttft * 1000).sort((a, b) => a - b);
    sorted.forEach((v, i) => {
      cdf.push({ class: label, ttft_ms: v, fraction: (i + 1) / sorted.length });
    });
    timeline.push(...timelineRows(label, timelinePoints(ok, run.t0)));
    const bins: number[] = [];
    for (const o of ok) {
      let t = o.startTime - run.t0 + o.ttft;
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
    for (let b = 0; b < bins.length; b++) tput.push({ class: label, t_s: b, tokens_per_s: bins[b] ?? 0 });
  }
  const servers = [...new Set(run.samples.map((s) => serverName(s.url)))];
  const many = servers.length > 1;
  const requests: Row[] = [];
  const kv: Row[] = [];
  for (const s of run.samples) {
    const server = serverName(s.url);
    const at = many ? ` @ ${server}` : "";
    if (s.running !== null) requests.push({ series: `running${at}`, t_s: s.t, value: s.running });
    if (s.waiting !== null) requests.push({ series: `waiting${at}`, t_s: s.t, value: s.waiting });
    if (s.kvCacheUsage !== null) kv.push({ series: server, t_s: s.t, value: s.kvCacheUsage * 100 });
  }
  return { cdf, timeline, tput, requests, kv, servers };
}

/** "127.0.0.1:8000", "127.0.0.1:8000 and 127.0.0.1:8001", or "3 servers (…)". */
function serversTitle(servers: readonly string[]): string {
  if (servers.length <= 2) return servers.join(" and ");
  return `${servers.length} servers (${servers[0]} … ${servers.at(-1)})`;
}

/**
 * The Vega-Lite spec: TTFT CDF and each request over time (top), output tokens/s, then the scraped
 * servers' running/waiting requests and KV-cache % on their own axes (bottom).
 */
export function chartSpec(run: BenchmarkRun): TopLevelSpec {
  const d = chartData(run);
  const labels = run.classes.map(classLabel);
  const color = {
    field: "class",
    type: "nominal",
    title: "class",
    scale: { domain: labels, scheme: "category10" },
    legend: { labelLimit: 400, symbolOpacity: 1 },
  };
  const w = 420;
  const h = 240;
  const xDomain = timelineDomain(d.timeline);
  const time = {
    field: "t_s",
    type: "quantitative",
    title: "time since start (s)",
    scale: { domain: xDomain },
  };
  const rows: object[] = [
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
          title: "Each request over time (TTFT)",
          width: w,
          height: h,
          data: { values: d.timeline },
          layer: timelineLayers(color, "time since start (s)", xDomain, false),
        },
      ],
    },
    {
      title: "Output tokens per second, per class (1 s bins)",
      width: 2 * w + 40,
      height: h * 0.8,
      data: { values: d.tput },
      mark: { type: "line", interpolate: "step-after", point: true },
      encoding: {
        x: { ...time, axis: { tickMinStep: 1 } },
        y: { field: "tokens_per_s", type: "quantitative", title: "output tokens/s" },
        color,
      },
    },
  ];
  if (d.requests.length > 0 || d.kv.length > 0) {
    const on = serversTitle(d.servers);
    /** One gauge panel: lines over `values` on the shared time axis, y and colour as given. */
    const gauges = (title: string, values: Row[], y: object, color: object) => ({
      title,
      width: w,
      height: h,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: time,
        y: { field: "value", type: "quantitative", ...y },
        color: { field: "series", type: "nominal", ...color },
      },
    });
    rows.push({
      hconcat: [
        gauges(
          `Requests on ${on} (scraped once a second)`,
          d.requests,
          { title: "requests (running, waiting)" },
          { title: "server gauge", scale: { scheme: "dark2" } },
        ),
        gauges(
          `KV-cache use on ${on}`,
          d.kv,
          { title: "KV cache used (%)", scale: { domain: [0, 100] } },
          { title: "server", scale: { scheme: "set2" }, ...(d.servers.length === 1 ? { legend: null } : {}) },
        ),
      ],
      resolve: { scale: { color: "independent" } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    title: {
      text: "igw bench: per-class latency and throughput",
      subtitle: ["A class whose CDF sits further left gets its first token sooner.", TIMELINE_NOTE],
    },
    vconcat: rows,
  } as TopLevelSpec;
}

/** Renders the run's chart to SVG text (Vega headless, no canvas). */
export function renderChartSvg(run: BenchmarkRun): Promise<string> {
  return renderSvg(chartSpec(run));
}

/** Writes the chart to `path`: SVG for *.svg, PNG (via resvg, 2x) for *.png. */
export async function writeChart(run: BenchmarkRun, path: string): Promise<void> {
  const lower = path.toLowerCase();
  if (!lower.endsWith(".png") && !lower.endsWith(".svg"))
    throw new Error(`--plot ${path}: the file must end in .svg or .png`);
  const svg = await renderChartSvg(run);
  await writeFile(path, lower.endsWith(".png") ? svgToPng(svg) : svg);
}
