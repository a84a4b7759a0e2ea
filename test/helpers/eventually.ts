/** Polling for a condition that settles asynchronously (books, gauges, another process's state). */
import { setTimeout as sleep } from "node:timers/promises";

/** Retries `check` every `intervalMs` until it resolves; rethrows its last error after `timeoutMs`. */
export async function eventually(
  check: () => Promise<void>,
  timeoutMs = 3000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(intervalMs);
    }
  }
}
