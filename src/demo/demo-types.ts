/** Shapes the demo's phases, comparison and chart share. */
import type { TimelinePoint } from "../bench/request-timeline.ts";

/** The two traffic classes of the seed. */
export type ClassKey = "critical" | "standard";

/** How the chart's legend names a class: its criticality, then the model it asks for. */
export function classLabel(key: ClassKey, model: string): string {
  return `${key === "critical" ? "Critical" : "Standard"} (${model})`;
}

/** One class's outcome, in the units of the reports (ms, s). */
export interface ClassResult {
  readonly key: ClassKey;
  readonly name: string;
  readonly completed: number;
  readonly failed: number;
  readonly numPrompts: number;
  readonly errorsByStatus: Readonly<Record<string, number>>;
  readonly meanTtftMs: number;
  readonly medianTtftMs: number;
  readonly p99TtftMs: number;
  readonly meanTpotMs: number;
  readonly durationS: number;
  /** Each successful request: sent and completed (s since the phase started) and its TTFT (ms). */
  readonly points: readonly TimelinePoint[];
}
