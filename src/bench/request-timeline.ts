/**
 * The "each request over time" panel that `igw bench --plot` and `igw demo` share. Every request is
 * a faint line from when it was sent to when it completed, at the height of its TTFT, with a dot at
 * completion: a burst sent at once spreads out along x by when each request finished.
 */
import type { RequestOutput } from "./request-output.ts";

/** One request in seconds since the start of its phase (or run), TTFT in ms. */
export interface TimelinePoint {
  readonly sentS: number;
  readonly doneS: number;
  readonly ttftMs: number;
}

/** A data row of the panel: `class` is the legend label. */
export type TimelineRow = { class: string; sent_s: number; done_s: number; ttft_ms: number };

/** The successful requests of one class, relative to `t0` (the monotonic start, s). */
export function timelinePoints(outputs: readonly RequestOutput[], t0: number): TimelinePoint[] {
  return outputs
    .filter((o) => o.success)
    .map((o) => ({ sentS: o.startTime - t0, doneS: o.startTime - t0 + o.latency, ttftMs: o.ttft * 1000 }));
}

/** Rows for the panel (pure). */
export function timelineRows(label: string, points: readonly TimelinePoint[]): TimelineRow[] {
  return points.map((p) => ({ class: label, sent_s: p.sentS, done_s: p.doneS, ttft_ms: p.ttftMs }));
}

/** What the chart's subtitle says about the panel. */
export const TIMELINE_NOTE =
  "Each request: a line from when it was sent to when it completed, at the height of its TTFT; the dot marks completion.";

/**
 * The two layers (rule sent→completed, point at completion) over rows of `TimelineRow`; `color` is
 * the class colour encoding, `xTitle` the x axis title, `xDomain` fixes the x range (shared across
 * panels), `logY` a log TTFT axis.
 */
export function timelineLayers(
  color: object,
  xTitle: string,
  xDomain: readonly [number, number],
  logY: boolean,
): object[] {
  const y = {
    field: "ttft_ms",
    type: "quantitative",
    title: logY ? "TTFT (ms, log scale)" : "TTFT (ms)",
    ...(logY ? { scale: { type: "log" } } : {}),
  };
  const x = (field: string) => ({
    field,
    type: "quantitative",
    title: xTitle,
    scale: { domain: [...xDomain], nice: false },
  });
  return [
    {
      mark: { type: "rule", strokeWidth: 0.8, opacity: 0.3 },
      encoding: { x: x("sent_s"), x2: { field: "done_s" }, y, color },
    },
    {
      mark: { type: "point", filled: true, size: 14, opacity: 0.7 },
      encoding: { x: x("done_s"), y, color },
    },
  ];
}

/** [0, the latest completion] over every row, rounded up to a whole second (at least 1 s). */
export function timelineDomain(rows: readonly TimelineRow[]): [number, number] {
  let max = 0;
  for (const r of rows) if (r.done_s > max) max = r.done_s;
  return [0, Math.max(1, Math.ceil(max))];
}
