/**
 * A dashboard page without a browser: opens `/dashboard/events` and collects its SSE messages as
 * parsed events, so tests can wait for one. Always call `close()`.
 */
import { request } from "undici";
import type { DashboardEvent } from "../../src/observability/dashboard/events.ts";

export interface DashboardEvents {
  /** Every event received so far, in order. */
  readonly events: DashboardEvent[];
  /** Resolves with the first event received (or to come) of `type` that `match` accepts; rejects after `ms`. */
  next<T extends DashboardEvent["type"]>(
    type: T,
    match?: (e: Extract<DashboardEvent, { type: T }>) => boolean,
    ms?: number,
  ): Promise<Extract<DashboardEvent, { type: T }>>;
  close(): void;
}

/** Connects to `${base}/dashboard/events`; resolves once the response head arrived. */
export async function openDashboardEvents(base: string): Promise<DashboardEvents> {
  const controller = new AbortController();
  const res = await request(`${base}/dashboard/events`, { signal: controller.signal });
  if (res.statusCode !== 200) throw new Error(`/dashboard/events answered ${res.statusCode}`);
  const events: DashboardEvent[] = [];
  let buffered = "";
  res.body.setEncoding("utf8");
  res.body.on("data", (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      if (data) events.push(JSON.parse(data) as DashboardEvent);
      end = buffered.indexOf("\n\n");
    }
  });
  res.body.on("error", () => {});
  return {
    events,
    async next(type, match = () => true, ms = 10_000) {
      const deadline = Date.now() + ms;
      let seen = 0;
      for (;;) {
        for (; seen < events.length; seen++) {
          const e = events[seen]!;
          if (e.type === type && match(e as never)) return e as never;
        }
        if (Date.now() > deadline) throw new Error(`no ${type} event in ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => controller.abort(),
  };
}
