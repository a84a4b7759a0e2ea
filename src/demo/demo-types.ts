/** Shapes the demo's phases, comparison and chart share. */

/** The two traffic classes of the seed. */
export type ClassKey = "critical" | "standard";

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
  /** Each successful request: when it was sent (s since start) and its TTFT (ms). */
  readonly points: readonly { sentS: number; ttftMs: number }[];
}
