/**
 * CPU time of processes, read from /proc (Linux): the demo reports how much of the machine the
 * servers, the gateway and the benchmark client used, to show the time-scaled run was not CPU-bound.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far; undefined when /proc is not readable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Measures CPU seconds of named processes between start() and stop(). */
export class CpuMeter {
  private readonly pids: ReadonlyMap<string, number>;
  private readonly start: Map<string, number | undefined>;
  private readonly startedAt = performance.now();

  constructor(pids: ReadonlyMap<string, number>) {
    this.pids = pids;
    this.start = new Map([...pids].map(([name, pid]) => [name, processCpuSeconds(pid)]));
  }

  /** Per process: CPU seconds used and the share of one core over the wall time (1 = one full core). */
  stop(): { name: string; cpuSeconds: number | undefined; cores: number | undefined }[] {
    const wall = (performance.now() - this.startedAt) / 1000;
    return [...this.pids].map(([name, pid]) => {
      const a = this.start.get(name);
      const b = processCpuSeconds(pid);
      const cpuSeconds = a !== undefined && b !== undefined ? b - a : undefined;
      return {
        name,
        cpuSeconds,
        cores: cpuSeconds !== undefined && wall > 0 ? cpuSeconds / wall : undefined,
      };
    });
  }
}
