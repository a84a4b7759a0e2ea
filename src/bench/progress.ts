import cliProgress from "cli-progress";

/** Per-class progress counters; a no-op when disabled. */
export interface Progress {
  /** One request of class `i` finished. */
  tick(i: number): void;
  stop(): void;
}

/**
 * A cli-progress bar per class on stderr (one bar when there is one class). Pass enabled=false when
 * stderr is not a TTY or with --disable-progress.
 */
export function createProgress(
  enabled: boolean,
  classes: ReadonlyArray<{ name: string; total: number }>,
): Progress {
  if (!enabled) return { tick() {}, stop() {} };
  const width = Math.max(...classes.map((c) => c.name.length));
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: " {name} |{bar}| {value}/{total} {percentage}% | {duration_formatted}",
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = classes.map((c) => multi.create(c.total, 0, { name: c.name.padEnd(width) }));
  return {
    tick(i) {
      bars[i]?.increment();
    },
    stop() {
      multi.stop();
    },
  };
}
