/**
 * The priority family's cells, shared by `bench:priority` (real processes) and
 * `bench:priority-virtual` (one virtual clock): concurrency per class, KV blocks per server, the
 * issue 12 bound on Critical / Critical alone, and the engine-priority cell's Standard lead.
 */

/** One load of the family: concurrency per class (null = all at once) and KV blocks per server. */
export interface PriorityCell {
  name: string;
  concurrency: number | null;
  kvBlocks: number;
  /** The bound on Critical mean TTFT / Critical alone, when it sets one. */
  criticalVsAlone?: number;
  /** Engine priority on, Standard admitted ENGINE_LEAD_S before Critical. */
  engine?: boolean;
}

/** Seconds Standard runs alone before Critical starts in the engine cell. */
export const ENGINE_LEAD_S = 1;

export const CELLS: readonly PriorityCell[] = [
  { name: "room", concurrency: 8, kvBlocks: 5000 },
  { name: "moderate", concurrency: 60, kvBlocks: 700, criticalVsAlone: 1.2 },
  { name: "heavy", concurrency: 100, kvBlocks: 400, criticalVsAlone: 1.2 },
  { name: "burst", concurrency: null, kvBlocks: 500, criticalVsAlone: 1.1 },
  { name: "engine", concurrency: 60, kvBlocks: 700, criticalVsAlone: 1.1, engine: true },
];

/** Prompts per class: `override`, else enough to keep the cell busy (1.5× its concurrency, at least 40, with quick; else 3×, at least 150). */
export function promptsPerClass(concurrency: number | null, quick: boolean, override?: number): number {
  return override ?? Math.max(quick ? 40 : 150, Math.ceil((concurrency ?? 0) * (quick ? 1.5 : 3)));
}
